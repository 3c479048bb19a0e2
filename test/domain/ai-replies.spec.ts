/**
 * SPEC §2: "While a ticket is OPEN or ASSIGNED, the AI does not answer the guest."
 * Chat modes: ai_only and hybrid let the AI answer; `off` means nobody answers automatically.
 * On close, AI replies resume if the mode is ai_only or hybrid.
 * A redelivered guest message is never answered twice.
 */
import { describe, it, expect } from '@jest/globals';
import { aiMayAnswer, postAiReply, type ConversationEvent } from '../../src/domain/conversation.js';
import type { ChatMode } from '../../src/domain/settings.js';
import { given } from './given-when-then.js';
import { aiAnswered, alice, assignedTo, at, closedBy, closedTicket, guestWrote, noTicket, openTicket, takenOverBy, ticketOpened } from './fixtures.js';

const avaAnswers = (inReplyTo: string, chatMode: ChatMode, messageId = `ai-${inReplyTo}`) => ({
  messageId,
  text: 'Of course, breakfast is served from 7 to 10.',
  inReplyTo,
  chatMode,
  at: at(50),
});

const aiReplyPosted = (inReplyTo: string, messageId = `ai-${inReplyTo}`): ConversationEvent => ({
  type: 'AiReplyPosted',
  data: { messageId, text: 'Of course, breakfast is served from 7 to 10.', inReplyTo, at: at(50) },
});

describe('AI replies', () => {
  describe('messages written to a person stay with the person', () => {
    it('does not answer, after the close, a message the guest wrote while the ticket was assigned', () => {
      given([...assignedTo(alice), guestWrote('g-during', 'Thanks Alice', 4), closedBy(alice)])
        .when((state) => postAiReply(state, avaAnswers('g-during', 'hybrid')))
        .thenNothing();
    });

    it('does not answer a message written before the guest asked for a person', () => {
      given([...noTicket(), guestWrote('g-before'), ticketOpened(), takenOverBy(alice), closedBy(alice)])
        .when((state) => postAiReply(state, avaAnswers('g-before', 'hybrid')))
        .thenNothing();
    });

    it('does not answer a message that is not in the conversation', () => {
      given(noTicket())
        .when((state) => postAiReply(state, avaAnswers('never-written', 'hybrid')))
        .thenNothing();
    });
  });

  describe('AVA answers a guest message', () => {
    it.each<ChatMode>(['ai_only', 'hybrid'])('with no ticket, in %s mode', (mode) => {
      given([...noTicket(), guestWrote('g-1')])
        .when((state) => postAiReply(state, avaAnswers('g-1', mode)))
        .then([aiReplyPosted('g-1')]);
    });

    it.each<ChatMode>(['ai_only', 'hybrid'])('after the ticket is closed, in %s mode', (mode) => {
      given([...closedTicket(alice), guestWrote('g-2', 'One more question', 45)])
        .when((state) => postAiReply(state, avaAnswers('g-2', mode)))
        .then([aiReplyPosted('g-2')]);
    });
  });

  describe('AVA stays silent (the reply is dropped: no events, no error)', () => {
    it.each<ChatMode>(['ai_only', 'hybrid', 'off'])('while a ticket is OPEN (%s mode)', (mode) => {
      given([...openTicket(), guestWrote('g-2', 'Is anyone there?', 6)])
        .when((state) => postAiReply(state, avaAnswers('g-2', mode)))
        .thenNothing();
    });

    it.each<ChatMode>(['ai_only', 'hybrid', 'off'])('while a ticket is ASSIGNED (%s mode)', (mode) => {
      given([...assignedTo(alice), guestWrote('g-2', 'Thanks Alice', 6)])
        .when((state) => postAiReply(state, avaAnswers('g-2', mode)))
        .thenNothing();
    });

    it('in off mode with no ticket', () => {
      given([...noTicket(), guestWrote('g-1')])
        .when((state) => postAiReply(state, avaAnswers('g-1', 'off')))
        .thenNothing();
    });

    it('in off mode after the ticket is closed (AI replies did not resume)', () => {
      given([...closedTicket(alice), guestWrote('g-2', 'One more question', 45)])
        .when((state) => postAiReply(state, avaAnswers('g-2', 'off')))
        .thenNothing();
    });

    it('for a guest message it already answered (redelivery), whatever the new reply id', () => {
      given([...noTicket(), guestWrote('g-1'), aiAnswered('g-1')])
        .when((state) => postAiReply(state, avaAnswers('g-1', 'ai_only', 'ai-g-1-retry')))
        .thenNothing();
    });

    it('for a message answered before a ticket cycle, even after that ticket closed', () => {
      given([...noTicket(), guestWrote('g-1'), aiAnswered('g-1'), ...closedTicket(alice).slice(1)])
        .when((state) => postAiReply(state, avaAnswers('g-1', 'hybrid')))
        .thenNothing();
    });
  });

  it('answering one message does not block the answer to the next one', () => {
    given([...noTicket(), guestWrote('g-1'), aiAnswered('g-1'), guestWrote('g-2', 'And parking?', 3)])
      .when((state) => postAiReply(state, avaAnswers('g-2', 'ai_only')))
      .then([aiReplyPosted('g-2')]);
  });

  it('in an unknown conversation is not found', () => {
    given([])
      .when((state) => postAiReply(state, avaAnswers('g-1', 'ai_only')))
      .thenThrows('not_found', 'conversation_not_found');
  });
});

describe('aiMayAnswer: may AVA answer now?', () => {
  const streams = {
    none: noTicket,
    open: openTicket,
    assigned: () => assignedTo(alice),
    closed: () => closedTicket(alice),
  } as const;

  // ticket state × chat mode → may answer
  const table: Array<[keyof typeof streams, ChatMode, boolean]> = [
    ['none', 'ai_only', true],
    ['none', 'hybrid', true],
    ['none', 'off', false],
    ['open', 'ai_only', false],
    ['open', 'hybrid', false],
    ['open', 'off', false],
    ['assigned', 'ai_only', false],
    ['assigned', 'hybrid', false],
    ['assigned', 'off', false],
    ['closed', 'ai_only', true],
    ['closed', 'hybrid', true],
    ['closed', 'off', false],
  ];

  it.each(table)('ticket %s, mode %s → %s', (ticketState, mode, expected) => {
    const conversation = given(streams[ticketState]()).state;
    if (conversation === null) throw new Error('fixture must start the conversation');
    expect(aiMayAnswer(conversation, mode)).toBe(expected);
  });
});

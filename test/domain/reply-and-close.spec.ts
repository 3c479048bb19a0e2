/**
 * SPEC §2 Ticket lifecycle:
 * - "Reply: the owner of an ASSIGNED ticket replies. On an OPEN ticket any employee may reply
 *   [...] A non-owner of an ASSIGNED ticket gets a clear 'assigned to another employee' refusal
 *   naming the owner." (Reply on an OPEN ticket and admin closes: handoff.spec.ts.)
 * - "Close: allowed to the owner, and to an admin of the property. Effects, in order: the ticket
 *   closes; if the closing employee's closure message is enabled, it is sent to the guest in
 *   AVA's name; if the property's chat mode is ai_only or hybrid, AI replies resume, otherwise
 *   they stay off." Then the guest is told the chat ended (and whether AVA is back).
 */
import { describe, it, expect } from '@jest/globals';
import { type Actor, close, reply, type ConversationEvent, type Employee } from '../../src/domain/conversation.js';
import type { ChatMode, ClosureMessage } from '../../src/domain/settings.js';
import { given } from './given-when-then.js';
import { alice, asAgent, assignedTo, at, bob, closedBy, closedTicket, noTicket, openTicket, told } from './fixtures.js';

const replyBy = (employee: Employee, text = 'Hi, Alice from the front desk here.') => ({
  employee,
  messageId: 'msg-reply-1',
  text,
  at: at(20),
});

const disabled: ClosureMessage = { enabled: false, text: '' };
const thanks: ClosureMessage = { enabled: true, text: 'Thanks for reaching out, have a lovely stay!' };

const closeBy = (employee: Actor, closureMessage: ClosureMessage = disabled, chatMode: ChatMode = 'hybrid') => ({
  employee,
  closureMessage,
  closureMessageId: 'msg-closure-1',
  chatMode,
  at: at(40),
});

const ticketClosed: ConversationEvent = {
  type: 'TicketClosed',
  data: { ticketId: 'ticket-1', employeeId: alice.id, closedBy: alice, at: at(40) },
};
const closureMessageSent = (text: string): ConversationEvent => ({
  type: 'ClosureMessageSent',
  data: { ticketId: 'ticket-1', messageId: 'msg-closure-1', employeeId: alice.id, text, at: at(40) },
});
const aiRepliesResumed = (chatMode: ChatMode): ConversationEvent => ({
  type: 'AiRepliesResumed',
  data: { ticketId: 'ticket-1', chatMode, at: at(40) },
});

describe('replying to the guest', () => {
  it('by the owner of the ASSIGNED ticket is recorded with who replied', () => {
    given(assignedTo(alice))
      .when((state) => reply(state, replyBy(alice, 'How can I help?')))
      .then([
        {
          type: 'EmployeeReplied',
          data: {
            ticketId: 'ticket-1',
            messageId: 'msg-reply-1',
            employeeId: alice.id,
            employeeName: alice.name,
            text: 'How can I help?',
            at: at(20),
          },
        },
      ]);
  });

  it('by another employee is a conflict: assigned to another employee, naming the owner', () => {
    given(assignedTo(alice))
      .when((state) => reply(state, replyBy(bob)))
      .thenThrows('conflict', 'assigned_to_another_employee', {
        ticketStatus: 'assigned',
        owner: { id: alice.id, name: alice.name },
      });
  });

  it('with no ticket is a conflict: no active ticket', () => {
    given(noTicket())
      .when((state) => reply(state, replyBy(alice)))
      .thenThrows('conflict', 'no_active_ticket', { ticketStatus: 'none' });
  });

  it('on a CLOSED ticket is a conflict, even for its former owner', () => {
    given(closedTicket(alice))
      .when((state) => reply(state, replyBy(alice)))
      .thenThrows('conflict', 'no_active_ticket', { ticketStatus: 'closed' });
  });

  it('in an unknown conversation is not found', () => {
    given([])
      .when((state) => reply(state, replyBy(alice)))
      .thenThrows('not_found', 'conversation_not_found');
  });
});

describe('closing a ticket', () => {
  describe('is refused', () => {
    it('to an employee who does not own it (forbidden, naming the owner)', () => {
      given(assignedTo(alice))
        .when((state) => close(state, closeBy(asAgent(bob))))
        .thenThrows('forbidden', 'assigned_to_another_employee', { owner: { id: alice.id, name: alice.name } });
    });

    it('while the ticket is OPEN, to an agent: take over first', () => {
      given(openTicket())
        .when((state) => close(state, closeBy(asAgent(alice))))
        .thenThrows('conflict', 'take_over_first', { ticketStatus: 'open' });
    });

    it('a second time: the ticket is already closed (conflict)', () => {
      given([...assignedTo(alice), closedBy(alice)])
        .when((state) => close(state, closeBy(asAgent(alice))))
        .thenThrows('conflict', 'no_active_ticket', { ticketStatus: 'closed' });
    });

    it('with no ticket at all (conflict)', () => {
      given(noTicket())
        .when((state) => close(state, closeBy(asAgent(alice))))
        .thenThrows('conflict', 'no_active_ticket', { ticketStatus: 'none' });
    });

    it('in an unknown conversation (not found)', () => {
      given([])
        .when((state) => close(state, closeBy(asAgent(alice))))
        .thenThrows('not_found', 'conversation_not_found');
    });
  });

  describe('by its owner: the ticket closes, then the closure message if enabled, then AI resumes if the mode allows, then the guest is told', () => {
    it('closure message enabled, hybrid → TicketClosed, ClosureMessageSent, AiRepliesResumed, GuestNotified', () => {
      given(assignedTo(alice))
        .when((state) => close(state, closeBy(asAgent(alice), thanks, 'hybrid')))
        .then([ticketClosed, closureMessageSent(thanks.text), aiRepliesResumed('hybrid'), told.closed(true, 40)]);
    });

    it('closure message enabled, ai_only → TicketClosed, ClosureMessageSent, AiRepliesResumed', () => {
      given(assignedTo(alice))
        .when((state) => close(state, closeBy(asAgent(alice), thanks, 'ai_only')))
        .then([ticketClosed, closureMessageSent(thanks.text), aiRepliesResumed('ai_only'), told.closed(true, 40)]);
    });

    it('closure message enabled, off → TicketClosed, ClosureMessageSent; AI stays off', () => {
      given(assignedTo(alice))
        .when((state) => close(state, closeBy(asAgent(alice), thanks, 'off')))
        .then([ticketClosed, closureMessageSent(thanks.text), told.closed(false, 40)]);
    });

    it('closure message disabled, hybrid → TicketClosed, AiRepliesResumed', () => {
      given(assignedTo(alice))
        .when((state) => close(state, closeBy(asAgent(alice), { enabled: false, text: 'written but switched off' }, 'hybrid')))
        .then([ticketClosed, aiRepliesResumed('hybrid'), told.closed(true, 40)]);
    });

    it('closure message disabled, ai_only → TicketClosed, AiRepliesResumed', () => {
      given(assignedTo(alice))
        .when((state) => close(state, closeBy(asAgent(alice), disabled, 'ai_only')))
        .then([ticketClosed, aiRepliesResumed('ai_only'), told.closed(true, 40)]);
    });

    it('closure message disabled, off → only TicketClosed', () => {
      given(assignedTo(alice))
        .when((state) => close(state, closeBy(asAgent(alice), disabled, 'off')))
        .then([ticketClosed, told.closed(false, 40)]);
    });

    it('closure message enabled but empty → no ClosureMessageSent', () => {
      given(assignedTo(alice))
        .when((state) => close(state, closeBy(asAgent(alice), { enabled: true, text: '' }, 'hybrid')))
        .then([ticketClosed, aiRepliesResumed('hybrid'), told.closed(true, 40)]);
    });

    it('leaves the ticket CLOSED, keeping who owned it', () => {
      expect(given(closedTicket(alice)).state?.ticket).toMatchObject({
        id: 'ticket-1',
        status: 'closed',
        ownerId: alice.id,
        ownerName: alice.name,
      });
    });
  });
});

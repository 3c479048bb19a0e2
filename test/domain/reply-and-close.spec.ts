/**
 * SPEC §2 Ticket lifecycle:
 * - "Reply: allowed only to the owner of an ASSIGNED ticket. A non-owner gets a clear
 *   'assigned to another employee' refusal; on an OPEN ticket the answer says 'take over first'."
 * - "Close: allowed only to the owner. Effects, in order: the ticket closes; if the owner's
 *   closure message is enabled, it is sent to the guest in AVA's name; if the property's chat
 *   mode is ai_only or hybrid, AI replies resume, otherwise they stay off."
 */
import { describe, it, expect } from '@jest/globals';
import { close, reply, type ConversationEvent, type Employee } from '../../src/domain/conversation.js';
import type { ChatMode, ClosureMessage } from '../../src/domain/settings.js';
import { given } from './given-when-then.js';
import { alice, assignedTo, at, bob, closedBy, closedTicket, noTicket, openTicket } from './fixtures.js';

const replyBy = (employee: Employee, text = 'Hi, Alice from the front desk here.') => ({
  employee,
  messageId: 'msg-reply-1',
  text,
  at: at(20),
});

const disabled: ClosureMessage = { enabled: false, text: '' };
const thanks: ClosureMessage = { enabled: true, text: 'Thanks for reaching out, have a lovely stay!' };

const closeBy = (employee: Employee, closureMessage: ClosureMessage = disabled, chatMode: ChatMode = 'hybrid') => ({
  employee,
  closureMessage,
  closureMessageId: 'msg-closure-1',
  chatMode,
  at: at(40),
});

const ticketClosed: ConversationEvent = {
  type: 'TicketClosed',
  data: { ticketId: 'ticket-1', employeeId: alice.id, at: at(40) },
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

  it('by another employee is forbidden: assigned to another employee, naming the owner', () => {
    given(assignedTo(alice))
      .when((state) => reply(state, replyBy(bob)))
      .thenThrows('forbidden', 'assigned_to_another_employee', {
        ticketStatus: 'assigned',
        owner: { id: alice.id, name: alice.name },
      });
  });

  it('on an OPEN ticket is a conflict: take over first', () => {
    given(openTicket())
      .when((state) => reply(state, replyBy(alice)))
      .thenThrows('conflict', 'take_over_first', { ticketStatus: 'open' });
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
        .when((state) => close(state, closeBy(bob)))
        .thenThrows('forbidden', 'assigned_to_another_employee', { owner: { id: alice.id, name: alice.name } });
    });

    it('while the ticket is OPEN: take over first', () => {
      given(openTicket())
        .when((state) => close(state, closeBy(alice)))
        .thenThrows('conflict', 'take_over_first', { ticketStatus: 'open' });
    });

    it('a second time: the ticket is already closed (conflict)', () => {
      given([...assignedTo(alice), closedBy(alice)])
        .when((state) => close(state, closeBy(alice)))
        .thenThrows('conflict', 'no_active_ticket', { ticketStatus: 'closed' });
    });

    it('with no ticket at all (conflict)', () => {
      given(noTicket())
        .when((state) => close(state, closeBy(alice)))
        .thenThrows('conflict', 'no_active_ticket', { ticketStatus: 'none' });
    });

    it('in an unknown conversation (not found)', () => {
      given([])
        .when((state) => close(state, closeBy(alice)))
        .thenThrows('not_found', 'conversation_not_found');
    });
  });

  describe('by its owner: the ticket closes, then the closure message if enabled, then AI resumes if the mode allows', () => {
    it('closure message enabled, hybrid → TicketClosed, ClosureMessageSent, AiRepliesResumed', () => {
      given(assignedTo(alice))
        .when((state) => close(state, closeBy(alice, thanks, 'hybrid')))
        .then([ticketClosed, closureMessageSent(thanks.text), aiRepliesResumed('hybrid')]);
    });

    it('closure message enabled, ai_only → TicketClosed, ClosureMessageSent, AiRepliesResumed', () => {
      given(assignedTo(alice))
        .when((state) => close(state, closeBy(alice, thanks, 'ai_only')))
        .then([ticketClosed, closureMessageSent(thanks.text), aiRepliesResumed('ai_only')]);
    });

    it('closure message enabled, off → TicketClosed, ClosureMessageSent; AI stays off', () => {
      given(assignedTo(alice))
        .when((state) => close(state, closeBy(alice, thanks, 'off')))
        .then([ticketClosed, closureMessageSent(thanks.text)]);
    });

    it('closure message disabled, hybrid → TicketClosed, AiRepliesResumed', () => {
      given(assignedTo(alice))
        .when((state) => close(state, closeBy(alice, { enabled: false, text: 'written but switched off' }, 'hybrid')))
        .then([ticketClosed, aiRepliesResumed('hybrid')]);
    });

    it('closure message disabled, ai_only → TicketClosed, AiRepliesResumed', () => {
      given(assignedTo(alice))
        .when((state) => close(state, closeBy(alice, disabled, 'ai_only')))
        .then([ticketClosed, aiRepliesResumed('ai_only')]);
    });

    it('closure message disabled, off → only TicketClosed', () => {
      given(assignedTo(alice))
        .when((state) => close(state, closeBy(alice, disabled, 'off')))
        .then([ticketClosed]);
    });

    it('closure message enabled but empty → no ClosureMessageSent', () => {
      given(assignedTo(alice))
        .when((state) => close(state, closeBy(alice, { enabled: true, text: '' }, 'hybrid')))
        .then([ticketClosed, aiRepliesResumed('hybrid')]);
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

/**
 * Caps on what one conversation takes (README "Abuse limits"): a guest writes at most
 * `maxGuestMessages` messages (MAX_GUEST_MESSAGES_PER_CONVERSATION), so one guest cannot grow a
 * stream without bound; a message (the guest's or an employee's reply) has at most
 * `maxTextLength` characters (MESSAGE_TEXT_MAX_LENGTH).
 */
import { describe, it } from '@jest/globals';
import { type ConversationEvent, postGuestMessage, reply } from '../../src/domain/conversation.js';
import { given } from './given-when-then.js';
import { alice, assignedTo, at, guestWrote, noTicket } from './fixtures.js';

const wrote = (n: number): ConversationEvent[] => Array.from({ length: n }, (_, i) => guestWrote(`g-${i}`, `message ${i}`, 1 + i));
const posted = (text: string): ConversationEvent => ({ type: 'GuestMessagePosted', data: { messageId: 'g-new', text, at: at(30) } });

describe('guest messages per conversation', () => {
  it('accepts the last message under the cap', () => {
    given([...noTicket(), ...wrote(2)])
      .when((state) => postGuestMessage(state, { messageId: 'g-new', text: 'third', at: at(30), maxGuestMessages: 3 }))
      .then([posted('third')]);
  });

  it('refuses a message past the cap, naming it (409 message_limit_reached)', () => {
    given([...noTicket(), ...wrote(3)])
      .when((state) => postGuestMessage(state, { messageId: 'g-new', text: 'fourth', at: at(30), maxGuestMessages: 3 }))
      .thenThrows('conflict', 'message_limit_reached', { limit: 3 });
  });

  it('counts messages written to a person too (they are in the same stream)', () => {
    given([...assignedTo(alice), ...wrote(3)])
      .when((state) => postGuestMessage(state, { messageId: 'g-new', text: 'fourth', at: at(30), maxGuestMessages: 3 }))
      .thenThrows('conflict', 'message_limit_reached');
  });

  it('without a cap, takes any number', () => {
    given([...noTicket(), ...wrote(50)])
      .when((state) => postGuestMessage(state, { messageId: 'g-new', text: 'more', at: at(30) }))
      .then([posted('more')]);
  });
});

describe('message text length', () => {
  it('accepts a text of exactly maxTextLength characters', () => {
    given(noTicket())
      .when((state) => postGuestMessage(state, { messageId: 'g-new', text: 'x'.repeat(10), at: at(30), maxTextLength: 10 }))
      .then([posted('x'.repeat(10))]);
  });

  it("refuses a longer guest message, as a validation error on the field", () => {
    given(noTicket())
      .when((state) => postGuestMessage(state, { messageId: 'g-new', text: 'x'.repeat(11), at: at(30), maxTextLength: 10 }))
      .thenThrows('invalid', 'text_too_long');
  });

  it("refuses a longer employee reply", () => {
    given(assignedTo(alice))
      .when((state) => reply(state, { employee: alice, messageId: 'r-1', text: 'y'.repeat(11), at: at(30), maxTextLength: 10 }))
      .thenThrows('invalid', 'text_too_long');
  });
});

/**
 * SPEC §2 Settings: "A guest's request for a person creates a ticket only if requestSupportChat
 * is true and chatMode is hybrid. Otherwise the request is recorded together with the reason
 * it did not create a ticket." Lifecycle: at most one ticket is active at a time; a closed
 * ticket lets a later request open a new one.
 */
import { describe, it, expect } from '@jest/globals';
import { requestSupport, type ConversationEvent, type SupportDeclineReason } from '../../src/domain/conversation.js';
import type { LiveChatSettings } from '../../src/domain/settings.js';
import { given } from './given-when-then.js';
import { alice, assignedTo, at, closedTicket, hybridOn, noTicket, openTicket, ticketOpened, told } from './fixtures.js';

const guestAsksForAPerson = (settings: LiveChatSettings, ticketId = 'ticket-new') => ({
  ticketId,
  origin: 'guest' as const,
  settings,
  at: at(30),
});

const declined = (reasons: SupportDeclineReason[], settings: LiveChatSettings): ConversationEvent[] => [
  { type: 'SupportRequestDeclined', data: { reasons, origin: 'guest', settings, at: at(30) } },
];

describe('a support request', () => {
  describe('does not open a ticket, and records why', () => {
    it('when Request Support Chat is off (mode hybrid)', () => {
      const settings: LiveChatSettings = { requestSupportChat: false, chatMode: 'hybrid' };
      given(noTicket())
        .when((state) => requestSupport(state, guestAsksForAPerson(settings)))
        .then(declined(['request_support_chat_off'], settings));
    });

    it('when the chat mode is ai_only (Request Support Chat on)', () => {
      const settings: LiveChatSettings = { requestSupportChat: true, chatMode: 'ai_only' };
      given(noTicket())
        .when((state) => requestSupport(state, guestAsksForAPerson(settings)))
        .then(declined(['chat_mode_not_hybrid'], settings));
    });

    it('when the chat mode is off (Request Support Chat on)', () => {
      const settings: LiveChatSettings = { requestSupportChat: true, chatMode: 'off' };
      given(noTicket())
        .when((state) => requestSupport(state, guestAsksForAPerson(settings)))
        .then(declined(['chat_mode_not_hybrid'], settings));
    });

    it('when both settings say no, naming both reasons (the defaults: off + ai_only)', () => {
      const settings: LiveChatSettings = { requestSupportChat: false, chatMode: 'ai_only' };
      given(noTicket())
        .when((state) => requestSupport(state, guestAsksForAPerson(settings)))
        .then(declined(['request_support_chat_off', 'chat_mode_not_hybrid'], settings));
    });

    it('when a ticket is already OPEN', () => {
      given(openTicket())
        .when((state) => requestSupport(state, guestAsksForAPerson(hybridOn)))
        .then(declined(['ticket_already_active'], hybridOn));
    });

    it('when a ticket is already ASSIGNED', () => {
      given(assignedTo(alice))
        .when((state) => requestSupport(state, guestAsksForAPerson(hybridOn)))
        .then(declined(['ticket_already_active'], hybridOn));
    });

    it('naming every reason at once: settings off and a ticket already active', () => {
      const settings: LiveChatSettings = { requestSupportChat: false, chatMode: 'off' };
      given(openTicket())
        .when((state) => requestSupport(state, guestAsksForAPerson(settings)))
        .then(declined(['request_support_chat_off', 'chat_mode_not_hybrid', 'ticket_already_active'], settings));
    });

    it('keeps the origin (AI-detected request) and a snapshot of the settings, not a live reference', () => {
      const settings = { requestSupportChat: false, chatMode: 'hybrid', extra: 'not part of the snapshot' } as LiveChatSettings;
      const [event] = requestSupport(given(noTicket()).state, {
        ticketId: 'ticket-new',
        origin: 'ai_detected',
        settings,
        at: at(30),
      });
      expect(event).toEqual({
        type: 'SupportRequestDeclined',
        data: {
          reasons: ['request_support_chat_off'],
          origin: 'ai_detected',
          settings: { requestSupportChat: false, chatMode: 'hybrid' },
          at: at(30),
        },
      });
      settings.requestSupportChat = true;
      expect(event.type === 'SupportRequestDeclined' && event.data.settings.requestSupportChat).toBe(false);
    });

    it('leaves the conversation without a ticket', () => {
      const settings: LiveChatSettings = { requestSupportChat: false, chatMode: 'hybrid' };
      const events = [...noTicket(), ...requestSupport(given(noTicket()).state, guestAsksForAPerson(settings))];
      expect(given(events).state?.ticket).toBeNull();
    });
  });

  it('opens a ticket when Request Support Chat is on and the mode is hybrid, and tells the guest a colleague will join', () => {
    given(noTicket())
      .when((state) => requestSupport(state, guestAsksForAPerson(hybridOn, 'ticket-1')))
      .then([{ type: 'TicketOpened', data: { ticketId: 'ticket-1', origin: 'guest', at: at(30) } }, told.ticketOpened(30)]);
  });

  it('the opened ticket is OPEN and has no owner', () => {
    expect(given([...noTicket(), ticketOpened('ticket-1', 3)]).state?.ticket).toEqual({
      id: 'ticket-1',
      status: 'open',
      ownerId: null,
      ownerName: null,
      openedAt: at(3),
    });
  });

  it('after the ticket is closed, a later request opens a new ticket with a new id', () => {
    given(closedTicket(alice))
      .when((state) => requestSupport(state, guestAsksForAPerson(hybridOn, 'ticket-2')))
      .then([{ type: 'TicketOpened', data: { ticketId: 'ticket-2', origin: 'guest', at: at(30) } }, told.ticketOpened(30)]);

    const reopened = given([...closedTicket(alice), ticketOpened('ticket-2', 30)]).state;
    expect(reopened?.ticket).toEqual({ id: 'ticket-2', status: 'open', ownerId: null, ownerName: null, openedAt: at(30) });
  });

  it('for an unknown conversation is refused as not found', () => {
    given([])
      .when((state) => requestSupport(state, guestAsksForAPerson(hybridOn)))
      .thenThrows('not_found', 'conversation_not_found');
  });
});

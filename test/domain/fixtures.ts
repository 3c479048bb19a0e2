/** Named events and people for the domain specs, so a `given(...)` reads like the story it tells. */
import type { ConversationEvent, Employee } from '../../src/domain/conversation.js';
import type { LiveChatSettings } from '../../src/domain/settings.js';

export const conversationId = 'conv-1';
export const propertyId = 'hotel-1';
export const at = (minute: number) => `2025-01-01T10:${String(minute).padStart(2, '0')}:00.000Z`;

export const alice: Employee = { id: 'emp-alice', name: 'Alice' };
export const bob: Employee = { id: 'emp-bob', name: 'Bob' };

export const hybridOn: LiveChatSettings = { requestSupportChat: true, chatMode: 'hybrid' };

export const conversationStarted = (): ConversationEvent => ({
  type: 'ConversationStarted',
  data: { conversationId, propertyId, guestName: 'Grace Guest', at: at(0) },
});

export const guestWrote = (messageId: string, text = 'Hello?', minute = 1): ConversationEvent => ({
  type: 'GuestMessagePosted',
  data: { messageId, text, at: at(minute) },
});

export const aiAnswered = (inReplyTo: string, messageId = `ai-${inReplyTo}`, minute = 2): ConversationEvent => ({
  type: 'AiReplyPosted',
  data: { messageId, text: 'Happy to help!', inReplyTo, at: at(minute) },
});

export const ticketOpened = (ticketId = 'ticket-1', minute = 3): ConversationEvent => ({
  type: 'TicketOpened',
  data: { ticketId, origin: 'guest', at: at(minute) },
});

export const takenOverBy = (employee: Employee, ticketId = 'ticket-1', minute = 4): ConversationEvent => ({
  type: 'TicketTakenOver',
  data: { ticketId, employeeId: employee.id, employeeName: employee.name, at: at(minute) },
});

export const closedBy = (employee: Employee, ticketId = 'ticket-1', minute = 5): ConversationEvent => ({
  type: 'TicketClosed',
  data: { ticketId, employeeId: employee.id, at: at(minute) },
});

/** Streams in each ticket state. */
export const noTicket = (): ConversationEvent[] => [conversationStarted()];
export const openTicket = (): ConversationEvent[] => [conversationStarted(), ticketOpened()];
export const assignedTo = (owner: Employee): ConversationEvent[] => [...openTicket(), takenOverBy(owner)];
export const closedTicket = (owner: Employee = alice): ConversationEvent[] => [...assignedTo(owner), closedBy(owner)];

/** Named events and people for the domain specs, so a `given(...)` reads like the story it tells. */
import type { Actor, ConversationEvent, Employee } from '../../src/domain/conversation.js';
import type { LiveChatSettings } from '../../src/domain/settings.js';

export const conversationId = 'conv-1';
export const propertyId = 'hotel-1';
export const at = (minute: number) => `2025-01-01T10:${String(minute).padStart(2, '0')}:00.000Z`;

export const alice: Employee = { id: 'emp-alice', name: 'Alice' };
export const bob: Employee = { id: 'emp-bob', name: 'Bob' };
export const grace: Employee = { id: 'emp-grace', name: 'Grace' };

/** Employees acting with a role (close, release, reassign depend on it). */
export const asAgent = (e: Employee): Actor => ({ ...e, role: 'agent' });
export const asAdmin = (e: Employee): Actor => ({ ...e, role: 'admin' });

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

export const releasedBy = (employee: Employee, previousOwner: Employee, ticketId = 'ticket-1', minute = 6): ConversationEvent => ({
  type: 'TicketReleased',
  data: { ticketId, previousOwnerId: previousOwner.id, releasedBy: employee, at: at(minute) },
});

export const reassignedTo = (
  employee: Employee,
  by: Employee = grace,
  previousOwner: Employee | null = null,
  ticketId = 'ticket-1',
  minute = 7,
): ConversationEvent => ({
  type: 'TicketReassigned',
  data: { ticketId, previousOwnerId: previousOwner?.id ?? null, employeeId: employee.id, employeeName: employee.name, reassignedBy: by, at: at(minute) },
});

/** What the guest is told, spelled out (not built with the code under test). */
export const told = {
  ticketOpened: (minute: number): ConversationEvent => ({
    type: 'GuestNotified',
    data: { notice: 'ticket_opened', text: 'A colleague will join shortly.', at: at(minute) },
  }),
  joined: (name: string, minute: number): ConversationEvent => ({
    type: 'GuestNotified',
    data: { notice: 'employee_joined', text: `${name} has joined the chat.`, employeeName: name, at: at(minute) },
  }),
  released: (minute: number): ConversationEvent => ({
    type: 'GuestNotified',
    data: { notice: 'ticket_released', text: 'You are back in the queue; a colleague will join shortly.', at: at(minute) },
  }),
  closed: (aiResumed: boolean, minute: number): ConversationEvent => ({
    type: 'GuestNotified',
    data: {
      notice: 'ticket_closed',
      text: aiResumed ? 'This chat has ended. AVA, our assistant, is back to help.' : 'This chat has ended.',
      aiResumed,
      at: at(minute),
    },
  }),
};

/** Streams in each ticket state. */
export const noTicket = (): ConversationEvent[] => [conversationStarted()];
export const openTicket = (): ConversationEvent[] => [conversationStarted(), ticketOpened()];
export const assignedTo = (owner: Employee): ConversationEvent[] => [...openTicket(), takenOverBy(owner)];
export const closedTicket = (owner: Employee = alice): ConversationEvent[] => [...assignedTo(owner), closedBy(owner)];

/**
 * A guest's conversation and its support tickets (SPEC §2 "Ticket lifecycle").
 * Pure: events, state, evolve, and one decide function per command. Ids and clock values
 * come in with the command so the same input always yields the same events.
 */
import { DomainError } from './errors.js';
import { type GuestNotice, guestNotified } from './guest-notices.js';
import type { ChatMode, LiveChatSettings, ClosureMessage } from './settings.js';

export type TicketStatus = 'open' | 'assigned' | 'closed';
export type SupportDeclineReason = 'request_support_chat_off' | 'chat_mode_not_hybrid' | 'ticket_already_active';
export type SupportRequestOrigin = 'guest' | 'ai_detected';

export interface Employee {
  id: string;
  name: string;
}

export type EmployeeRole = 'agent' | 'admin';
/** An employee acting with their role: admins may close, release and reassign any active ticket. */
export interface Actor extends Employee {
  role: EmployeeRole;
}

export type ConversationEvent =
  | { type: 'ConversationStarted'; data: { conversationId: string; propertyId: string; guestName: string; at: string } }
  | { type: 'GuestMessagePosted'; data: { messageId: string; text: string; at: string } }
  | { type: 'AiReplyPosted'; data: { messageId: string; text: string; inReplyTo: string; at: string } }
  | {
      type: 'SupportRequestDeclined';
      data: { reasons: SupportDeclineReason[]; origin: SupportRequestOrigin; settings: LiveChatSettings; at: string };
    }
  | { type: 'TicketOpened'; data: { ticketId: string; origin: SupportRequestOrigin; at: string } }
  | { type: 'TicketTakenOver'; data: { ticketId: string; employeeId: string; employeeName: string; at: string } }
  | {
      type: 'EmployeeReplied';
      data: { ticketId: string; messageId: string; employeeId: string; employeeName: string; text: string; at: string };
    }
  /** `employeeId` is who closed it (the owner, or an admin); `closedBy` is absent on events from before admins could close. */
  | { type: 'TicketClosed'; data: { ticketId: string; employeeId: string; closedBy?: Employee; at: string } }
  | { type: 'TicketReleased'; data: { ticketId: string; previousOwnerId: string; releasedBy: Employee; at: string } }
  | {
      type: 'TicketReassigned';
      data: {
        ticketId: string;
        previousOwnerId: string | null;
        employeeId: string;
        employeeName: string;
        reassignedBy: Employee;
        at: string;
      };
    }
  | { type: 'GuestNotified'; data: GuestNotice }
  | { type: 'ClosureMessageSent'; data: { ticketId: string; messageId: string; employeeId: string; text: string; at: string } }
  | { type: 'AiRepliesResumed'; data: { ticketId: string; chatMode: ChatMode; at: string } }
  /** An unattended ticket's wait lasted `escalateAfterMinutes` (domain/escalation.ts): once per ticket and wait. */
  | {
      type: 'TicketEscalated';
      data: {
        ticketId: string;
        reason: 'open_unattended' | 'guest_waiting';
        waitingSince: string;
        escalateAfterMinutes: number;
        at: string;
      };
    };

export type ConversationEventType = ConversationEvent['type'];

export interface Ticket {
  id: string;
  status: TicketStatus;
  ownerId: string | null;
  ownerName: string | null;
  openedAt: string;
}

export interface Conversation {
  id: string;
  propertyId: string;
  guestName: string;
  startedAt: string;
  /** The current or most recent ticket; a closed one stays here until a new request opens another. */
  ticket: Ticket | null;
  /**
   * Guest messages written while AVA was in charge and not answered yet. A message written
   * while a ticket was active belongs to the human, even if the AI worker sees it after the
   * close; an answered one is never answered twice.
   */
  awaitingAi: ReadonlySet<string>;
  /** How many messages the guest wrote (postGuestMessage caps them). */
  guestMessages: number;
}

export type ConversationState = Conversation | null;

export const conversationStream = (conversationId: string) => `conversation-${conversationId}`;

/** Any shape with the ticket's status (a Conversation, a read model of one). */
export const isTicketActive = (c: { ticket: Pick<Ticket, 'status'> | null }) => c.ticket !== null && c.ticket.status !== 'closed';

export function evolve(state: ConversationState, event: ConversationEvent): ConversationState {
  if (event.type === 'ConversationStarted') {
    const d = event.data;
    return {
      id: d.conversationId,
      propertyId: d.propertyId,
      guestName: d.guestName,
      startedAt: d.at,
      ticket: null,
      awaitingAi: new Set(),
      guestMessages: 0,
    };
  }
  if (state === null) return state;
  switch (event.type) {
    case 'TicketOpened':
      return {
        ...state,
        awaitingAi: new Set(),
        ticket: { id: event.data.ticketId, status: 'open', ownerId: null, ownerName: null, openedAt: event.data.at },
      };
    case 'TicketTakenOver':
      return state.ticket
        ? {
            ...state,
            ticket: { ...state.ticket, status: 'assigned', ownerId: event.data.employeeId, ownerName: event.data.employeeName },
          }
        : state;
    case 'TicketReleased':
      return state.ticket ? { ...state, ticket: { ...state.ticket, status: 'open', ownerId: null, ownerName: null } } : state;
    case 'TicketReassigned':
      return state.ticket
        ? {
            ...state,
            ticket: { ...state.ticket, status: 'assigned', ownerId: event.data.employeeId, ownerName: event.data.employeeName },
          }
        : state;
    case 'TicketClosed':
      return state.ticket ? { ...state, ticket: { ...state.ticket, status: 'closed' } } : state;
    case 'AiReplyPosted': {
      const awaitingAi = new Set(state.awaitingAi);
      awaitingAi.delete(event.data.inReplyTo);
      return { ...state, awaitingAi };
    }
    case 'GuestMessagePosted': {
      const guestMessages = state.guestMessages + 1;
      return isTicketActive(state)
        ? { ...state, guestMessages }
        : { ...state, guestMessages, awaitingAi: new Set([...state.awaitingAi, event.data.messageId]) };
    }
    case 'SupportRequestDeclined':
    case 'EmployeeReplied':
    case 'ClosureMessageSent':
    case 'AiRepliesResumed':
    case 'GuestNotified':
    case 'TicketEscalated':
      return state;
  }
}

export const fold = (events: readonly ConversationEvent[], initial: ConversationState = null) =>
  events.reduce<ConversationState>(evolve, initial);

export function existing(state: ConversationState): Conversation {
  if (state === null) throw new DomainError('not_found', 'conversation_not_found', 'Conversation not found');
  return state;
}

// ---- decisions -------------------------------------------------------------------------

export function startConversation(
  state: ConversationState,
  cmd: { conversationId: string; propertyId: string; guestName: string; at: string },
): ConversationEvent[] {
  if (state !== null) {
    throw new DomainError('conflict', 'conversation_exists', 'Conversation already exists', { conversationId: state.id });
  }
  return [{ type: 'ConversationStarted', data: cmd }];
}

/** The deployment's caps on what a conversation takes (MAX_GUEST_MESSAGES_PER_CONVERSATION, MESSAGE_TEXT_MAX_LENGTH). */
export interface ConversationLimits {
  maxGuestMessages?: number;
  maxTextLength?: number;
}

/** A message's text is at most `maxTextLength` characters (the API itself never takes more than 4000). */
function ensureTextFits(text: string, limits: ConversationLimits): void {
  if (limits.maxTextLength === undefined || text.length <= limits.maxTextLength) return;
  throw new DomainError('invalid', 'text_too_long', 'Validation failed', [
    { field: 'text', messages: [`text must be shorter than or equal to ${limits.maxTextLength} characters`] },
  ]);
}

/**
 * A guest writes. At most `maxGuestMessages` per conversation: one guest must not grow a stream
 * without bound (every command on it reads it); a guest with more to say starts a new conversation.
 */
export function postGuestMessage(
  state: ConversationState,
  cmd: { messageId: string; text: string; at: string } & ConversationLimits,
): ConversationEvent[] {
  const conversation = existing(state);
  ensureTextFits(cmd.text, cmd);
  if (cmd.maxGuestMessages !== undefined && conversation.guestMessages >= cmd.maxGuestMessages) {
    throw new DomainError('conflict', 'message_limit_reached', `This conversation has reached its limit of ${cmd.maxGuestMessages} guest messages; start a new conversation`, {
      limit: cmd.maxGuestMessages,
    });
  }
  return [{ type: 'GuestMessagePosted', data: { messageId: cmd.messageId, text: cmd.text, at: cmd.at } }];
}

/**
 * A ticket opens only if Request Support Chat is on AND the mode is hybrid, and no ticket is
 * active. Otherwise the request is still recorded, with every reason it did not open one.
 */
export function requestSupport(
  state: ConversationState,
  cmd: { ticketId: string; origin: SupportRequestOrigin; settings: LiveChatSettings; at: string },
): ConversationEvent[] {
  const conversation = existing(state);
  const reasons: SupportDeclineReason[] = [];
  if (!cmd.settings.requestSupportChat) reasons.push('request_support_chat_off');
  if (cmd.settings.chatMode !== 'hybrid') reasons.push('chat_mode_not_hybrid');
  if (isTicketActive(conversation)) reasons.push('ticket_already_active');
  if (reasons.length > 0) {
    return [
      {
        type: 'SupportRequestDeclined',
        data: {
          reasons,
          origin: cmd.origin,
          settings: { requestSupportChat: cmd.settings.requestSupportChat, chatMode: cmd.settings.chatMode },
          at: cmd.at,
        },
      },
    ];
  }
  return [
    { type: 'TicketOpened', data: { ticketId: cmd.ticketId, origin: cmd.origin, at: cmd.at } },
    guestNotified.ticketOpened(cmd.at),
  ];
}

/** Whether AVA may answer the guest now: never while a ticket is open or assigned, never in `off` mode. */
export function aiMayAnswer(conversation: { ticket: Pick<Ticket, 'status'> | null }, chatMode: ChatMode): boolean {
  return chatMode !== 'off' && !isTicketActive(conversation);
}

/**
 * An AI reply that is no longer wanted is dropped, not refused: a ticket opened meanwhile,
 * the mode was switched off, the message was already answered or was written to a human.
 */
export function postAiReply(
  state: ConversationState,
  cmd: { messageId: string; text: string; inReplyTo: string; chatMode: ChatMode; at: string },
): ConversationEvent[] {
  const conversation = existing(state);
  if (!aiMayAnswer(conversation, cmd.chatMode)) return [];
  if (!conversation.awaitingAi.has(cmd.inReplyTo)) return [];
  return [{ type: 'AiReplyPosted', data: { messageId: cmd.messageId, text: cmd.text, inReplyTo: cmd.inReplyTo, at: cmd.at } }];
}

const ownerOf = (ticket: Ticket) => ({ id: ticket.ownerId, name: ticket.ownerName });

function activeTicket(state: ConversationState): Ticket {
  const { ticket } = existing(state);
  if (ticket === null || ticket.status === 'closed') {
    throw new DomainError('conflict', 'no_active_ticket', 'There is no active ticket in this conversation', {
      ticketStatus: ticket?.status ?? 'none',
    });
  }
  return ticket;
}

/** The one refusal of every race for a ticket: the winner is named. */
const alreadyAssigned = (ticket: Ticket) =>
  new DomainError('conflict', 'already_assigned', `Ticket already taken over by ${ticket.ownerName}`, {
    ticketStatus: 'assigned',
    owner: ownerOf(ticket),
  });

/**
 * Someone else's ticket. For a reply it is a state conflict (409: the ticket moved on, e.g. a
 * racing take-over won — refresh and see who owns it); for close/release it is a permission (403).
 */
const assignedToAnother = (ticket: Ticket, kind: 'conflict' | 'forbidden' = 'forbidden') =>
  new DomainError(kind, 'assigned_to_another_employee', `Ticket is assigned to ${ticket.ownerName}`, {
    ticketStatus: 'assigned',
    owner: ownerOf(ticket),
  });

/** Close and release of an ASSIGNED ticket: its owner, or an admin (a shift ended, the owner is away). */
export function ensureOwnerOrAdmin(ticket: Ticket, actor: Actor): void {
  if (actor.role !== 'admin' && ticket.ownerId !== actor.id) throw assignedToAnother(ticket);
}

export function takeOver(state: ConversationState, cmd: { employee: Employee; at: string }): ConversationEvent[] {
  const { ticket } = existing(state);
  if (ticket === null || ticket.status === 'closed') {
    throw new DomainError('conflict', 'no_open_ticket', 'There is no open ticket to take over', {
      ticketStatus: ticket?.status ?? 'none',
    });
  }
  if (ticket.status === 'assigned') {
    if (ticket.ownerId !== cmd.employee.id) throw alreadyAssigned(ticket);
    throw new DomainError('conflict', 'already_assigned_to_you', 'You already own this ticket', {
      ticketStatus: 'assigned',
      owner: ownerOf(ticket),
    });
  }
  return [
    {
      type: 'TicketTakenOver',
      data: { ticketId: ticket.id, employeeId: cmd.employee.id, employeeName: cmd.employee.name, at: cmd.at },
    },
    guestNotified.employeeJoined(cmd.employee, cmd.at),
  ];
}

/**
 * The owner of an ASSIGNED ticket replies. On an OPEN ticket any employee may: the reply takes
 * the ticket over and sends the message in one decision, so it races exactly like a take-over.
 * A reply to someone else's ticket is a 409 naming the owner, whether it lost a race or came late.
 */
export function reply(
  state: ConversationState,
  cmd: { employee: Employee; messageId: string; text: string; at: string } & Pick<ConversationLimits, 'maxTextLength'>,
): ConversationEvent[] {
  const ticket = activeTicket(state);
  ensureTextFits(cmd.text, cmd);
  const replied: ConversationEvent = {
    type: 'EmployeeReplied',
    data: {
      ticketId: ticket.id,
      messageId: cmd.messageId,
      employeeId: cmd.employee.id,
      employeeName: cmd.employee.name,
      text: cmd.text,
      at: cmd.at,
    },
  };
  if (ticket.status === 'open') return [...takeOver(state, cmd), replied];
  if (ticket.ownerId !== cmd.employee.id) throw assignedToAnother(ticket, 'conflict');
  return [replied];
}

/**
 * Close: the owner, or an admin (also an OPEN ticket nobody took). Then the closing employee's
 * closure message (if enabled) in AVA's name, then AI resumes if the mode allows, then the guest is told.
 */
export function close(
  state: ConversationState,
  cmd: { employee: Actor; closureMessage: ClosureMessage; closureMessageId: string; chatMode: ChatMode; at: string },
): ConversationEvent[] {
  const ticket = activeTicket(state);
  if (ticket.status === 'open' && cmd.employee.role !== 'admin') {
    throw new DomainError('conflict', 'take_over_first', 'The ticket is open: take it over first', { ticketStatus: 'open' });
  }
  if (ticket.status === 'assigned') ensureOwnerOrAdmin(ticket, cmd.employee);
  const closedBy = { id: cmd.employee.id, name: cmd.employee.name };
  const events: ConversationEvent[] = [
    { type: 'TicketClosed', data: { ticketId: ticket.id, employeeId: cmd.employee.id, closedBy, at: cmd.at } },
  ];
  if (cmd.closureMessage.enabled && cmd.closureMessage.text.length > 0) {
    events.push({
      type: 'ClosureMessageSent',
      data: {
        ticketId: ticket.id,
        messageId: cmd.closureMessageId,
        employeeId: cmd.employee.id,
        text: cmd.closureMessage.text,
        at: cmd.at,
      },
    });
  }
  const aiResumes = cmd.chatMode === 'ai_only' || cmd.chatMode === 'hybrid';
  if (aiResumes) events.push({ type: 'AiRepliesResumed', data: { ticketId: ticket.id, chatMode: cmd.chatMode, at: cmd.at } });
  events.push(guestNotified.ticketClosed(aiResumes, cmd.at));
  return events;
}

// The conversation's ticket as an Emmett decider (decide / evolve / initialState), the shape of
// Emmett's samples, in plain ESM (the bench runs it on Node 20 without a build step). Rules and
// answer codes mirror src/domain/conversation.ts: take over only an OPEN ticket (409 naming the
// owner otherwise), reply by the owner (a reply to an OPEN ticket takes it over in the same
// decision), close by the owner (or an admin). Event counts per command match the service's:
// take-over 2, reply 1, close 3 (closure messages are not modelled: the service's bench has them off).
import { EmmettError } from '@event-driven-io/emmett';

/** An HTTP-mapped refusal: Emmett's errors carry their status in `errorCode`. */
export class Refusal extends EmmettError {
  constructor(errorCode, code, message, details) {
    super({ errorCode, message });
    this.code = code;
    this.details = details;
  }
}
const conflict = (code, message, details) => new Refusal(409, code, message, details);

export const initialState = () => ({ status: 'none', propertyId: null, guestName: null, ticket: null });

export function evolve(state, { type, data }) {
  switch (type) {
    case 'ConversationStarted':
      return { ...state, status: 'active', propertyId: data.propertyId, guestName: data.guestName };
    case 'TicketOpened':
      return { ...state, ticket: { id: data.ticketId, status: 'open', ownerId: null, ownerName: null } };
    case 'TicketTakenOver':
      return { ...state, ticket: { ...state.ticket, status: 'assigned', ownerId: data.employeeId, ownerName: data.employeeName } };
    case 'TicketClosed':
      return { ...state, ticket: { ...state.ticket, status: 'closed' } };
    default: // SupportRequested, EmployeeReplied, AiRepliesResumed, GuestNotified: no decision depends on them
      return state;
  }
}

const ownerOf = (t) => ({ id: t.ownerId, name: t.ownerName });

function existing(state, propertyId) {
  // Another property's conversation is "unknown", as in the service.
  if (state.status === 'none' || (propertyId !== undefined && state.propertyId !== propertyId)) {
    throw new Refusal(404, 'not_found', 'Conversation not found');
  }
  return state;
}

function activeTicket(state, propertyId) {
  const { ticket } = existing(state, propertyId);
  if (ticket === null || ticket.status === 'closed') {
    throw conflict('no_active_ticket', 'There is no active ticket in this conversation', { ticketStatus: ticket?.status ?? 'none' });
  }
  return ticket;
}

function takeOver(state, { employee, propertyId, at }) {
  const { ticket } = existing(state, propertyId);
  if (ticket === null || ticket.status === 'closed') {
    throw conflict('no_open_ticket', 'There is no open ticket to take over', { ticketStatus: ticket?.status ?? 'none' });
  }
  if (ticket.status === 'assigned') {
    const mine = ticket.ownerId === employee.id;
    throw conflict(mine ? 'already_assigned_to_you' : 'already_assigned', mine ? 'You already own this ticket' : `Ticket already taken over by ${ticket.ownerName}`, {
      ticketStatus: 'assigned',
      owner: ownerOf(ticket),
    });
  }
  return [
    { type: 'TicketTakenOver', data: { ticketId: ticket.id, employeeId: employee.id, employeeName: employee.name, at } },
    { type: 'GuestNotified', data: { notice: 'employee_joined', name: employee.name, at } },
  ];
}

export function decide(command, state) {
  const { data } = command;
  switch (command.type) {
    case 'StartConversation':
      if (state.status !== 'none') throw conflict('already_started', 'Conversation already exists');
      return [{ type: 'ConversationStarted', data: { propertyId: data.propertyId, guestName: data.guestName, at: data.at } }];
    case 'RequestSupport': {
      existing(state);
      if (state.ticket !== null && state.ticket.status !== 'closed') return []; // already waiting or served
      return [
        { type: 'SupportRequested', data: { by: 'guest', at: data.at } },
        { type: 'TicketOpened', data: { ticketId: data.ticketId, at: data.at } },
      ];
    }
    case 'TakeOver':
      return takeOver(state, data);
    case 'Reply': {
      const ticket = activeTicket(state, data.propertyId);
      const replied = { type: 'EmployeeReplied', data: { ticketId: ticket.id, messageId: data.messageId, employeeId: data.employee.id, employeeName: data.employee.name, text: data.text, at: data.at } };
      if (ticket.status === 'open') return [...takeOver(state, data), replied];
      if (ticket.ownerId !== data.employee.id) {
        throw conflict('assigned_to_another_employee', `Ticket is assigned to ${ticket.ownerName}`, { ticketStatus: 'assigned', owner: ownerOf(ticket) });
      }
      return [replied];
    }
    case 'CloseTicket': {
      const ticket = activeTicket(state, data.propertyId);
      const admin = data.employee.role === 'admin';
      if (ticket.status === 'open' && !admin) throw conflict('take_over_first', 'The ticket is open: take it over first', { ticketStatus: 'open' });
      if (ticket.status === 'assigned' && !admin && ticket.ownerId !== data.employee.id) {
        throw new Refusal(403, 'assigned_to_another_employee', `Ticket is assigned to ${ticket.ownerName}`, { ticketStatus: 'assigned', owner: ownerOf(ticket) });
      }
      return [
        { type: 'TicketClosed', data: { ticketId: ticket.id, employeeId: data.employee.id, at: data.at } },
        { type: 'AiRepliesResumed', data: { ticketId: ticket.id, chatMode: 'hybrid', at: data.at } },
        { type: 'GuestNotified', data: { notice: 'ticket_closed', aiResumes: true, at: data.at } },
      ];
    }
    default:
      throw new EmmettError({ errorCode: 400, message: `Unknown command ${command.type}` });
  }
}

export const decider = { decide, evolve, initialState };

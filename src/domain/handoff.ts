/**
 * SPEC §2 Ticket lifecycle, the hand-offs: release (owner or admin) puts an ASSIGNED ticket
 * back in the queue; reassign (admin) gives an OPEN or ASSIGNED ticket to a named employee.
 * Both record who did it, so history shows who moved a ticket.
 */
import {
  type Actor,
  type ConversationEvent,
  type ConversationState,
  type Employee,
  ensureOwnerOrAdmin,
  existing,
} from './conversation.js';
import { DomainError } from './errors.js';
import { guestNotified } from './guest-notices.js';

const person = (actor: Actor): Employee => ({ id: actor.id, name: actor.name });

export function release(state: ConversationState, cmd: { employee: Actor; at: string }): ConversationEvent[] {
  const { ticket } = existing(state);
  if (ticket === null || ticket.status !== 'assigned') {
    throw new DomainError('conflict', 'not_assigned', 'The ticket is not assigned: there is nothing to release', {
      ticketStatus: ticket?.status ?? 'none',
    });
  }
  ensureOwnerOrAdmin(ticket, cmd.employee);
  return [
    {
      type: 'TicketReleased',
      data: { ticketId: ticket.id, previousOwnerId: ticket.ownerId!, releasedBy: person(cmd.employee), at: cmd.at },
    },
    guestNotified.ticketReleased(cmd.at),
  ];
}

export function reassign(state: ConversationState, cmd: { employee: Actor; to: Employee; at: string }): ConversationEvent[] {
  const { ticket } = existing(state);
  if (cmd.employee.role !== 'admin') throw new DomainError('forbidden', 'admin_only', 'Only an admin may do this');
  if (ticket === null || ticket.status === 'closed') {
    throw new DomainError('conflict', 'no_active_ticket', 'There is no active ticket in this conversation', {
      ticketStatus: ticket?.status ?? 'none',
    });
  }
  if (ticket.status === 'assigned' && ticket.ownerId === cmd.to.id) {
    throw new DomainError('conflict', 'already_assigned_to_employee', `Ticket is already assigned to ${ticket.ownerName}`, {
      ticketStatus: 'assigned',
      owner: { id: ticket.ownerId, name: ticket.ownerName },
    });
  }
  return [
    {
      type: 'TicketReassigned',
      data: {
        ticketId: ticket.id,
        previousOwnerId: ticket.status === 'assigned' ? ticket.ownerId : null,
        employeeId: cmd.to.id,
        employeeName: cmd.to.name,
        reassignedBy: person(cmd.employee),
        at: cmd.at,
      },
    },
    guestNotified.employeeJoined(cmd.to, cmd.at),
  ];
}

/** SPEC §2 "Badges": what the looking employee sees and may do, so frontends never re-derive rules. */
import type { TicketStatus } from './conversation.js';

export type Badge = 'open_ticket' | 'assigned_to_you' | 'assigned' | null;
export interface Actions {
  takeOver: boolean;
  reply: boolean;
  close: boolean;
}

export interface TicketView {
  status: TicketStatus;
  ownerId: string | null;
}

export function badgeFor(ticket: TicketView | null, viewerId: string): Badge {
  if (ticket === null) return null;
  switch (ticket.status) {
    case 'open':
      return 'open_ticket';
    case 'assigned':
      return ticket.ownerId === viewerId ? 'assigned_to_you' : 'assigned';
    case 'closed':
      return null;
  }
}

export function actionsFor(ticket: TicketView | null, viewerId: string): Actions {
  const mine = ticket?.status === 'assigned' && ticket.ownerId === viewerId;
  return { takeOver: ticket?.status === 'open', reply: mine, close: mine };
}

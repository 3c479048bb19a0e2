/** SPEC §2 "Badges": what the looking employee sees and may do, so frontends never re-derive rules. */
import type { EmployeeRole, TicketStatus } from './conversation.js';

export type Badge = 'open_ticket' | 'assigned_to_you' | 'assigned' | null;
export interface Actions {
  takeOver: boolean;
  reply: boolean;
  close: boolean;
  release: boolean;
  reassign: boolean;
}

export interface TicketView {
  status: TicketStatus;
  ownerId: string | null;
}

/** Actions depend on the role too: an admin may close, release and reassign any active ticket. */
export interface Viewer {
  id: string;
  role: EmployeeRole;
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

/** Mirrors the deciders in conversation.ts and handoff.ts (reassign still refuses the current owner as the target). */
export function actionsFor(ticket: TicketView | null, viewer: Viewer): Actions {
  const open = ticket?.status === 'open';
  const assigned = ticket?.status === 'assigned';
  const mine = assigned && ticket?.ownerId === viewer.id;
  const admin = viewer.role === 'admin';
  return {
    takeOver: open,
    reply: open || mine,
    close: mine || (admin && (open || assigned)),
    release: mine || (admin && assigned),
    reassign: admin && (open || assigned),
  };
}

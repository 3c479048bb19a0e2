/**
 * Escalation of unattended tickets (SPEC §2 "Unattended tickets"). Pure.
 *
 * A ticket is waiting
 * - `open_unattended`: while it is OPEN, since it opened (or was released back to OPEN);
 * - `guest_waiting`: while it is ASSIGNED, since the guest's oldest message after the last
 *   employee reply (a message written while the ticket was still OPEN belongs to the open
 *   wait, not to this one; taking the ticket over ends the open wait).
 * A wait that lasts `escalateAfterMinutes` (a property setting, off when null) escalates ONCE:
 * a `TicketEscalated` event naming the wait (reason + since). The wait ends when the ticket is
 * taken over or reassigned (open), an employee replies (guest), it is released (a new open wait
 * starts) or it is closed.
 *
 * The same `evolveEscalation` folds the conversation stream for the decision here and for the
 * escalation watcher's due times, so both agree on what is waiting since when. It reads events
 * by type name, so it also follows events of other features (`TicketReleased`,
 * `TicketReassigned`) without depending on their types.
 */
import type { ConversationEvent } from './conversation.js';

export type EscalationReason = 'open_unattended' | 'guest_waiting';

export interface Wait {
  reason: EscalationReason;
  /** When the wait began (the event's `at`): the ticket opened / was released, or the guest wrote. */
  since: string;
  /** This wait was escalated already (one escalation per ticket and wait). */
  escalated: boolean;
}

export interface EscalationView {
  propertyId: string;
  ticketId: string | null;
  status: 'none' | 'open' | 'assigned' | 'closed';
  /** What the current ticket waits for now; null when nobody is waiting. */
  wait: Wait | null;
}
export type EscalationState = EscalationView | null;

/** Any event of a conversation stream, by type name. */
export interface StreamEvent {
  type: string;
  data: object;
}

const MINUTE_MS = 60_000;

const openWait = (since: string): Wait => ({ reason: 'open_unattended', since, escalated: false });

export function evolveEscalation(state: EscalationState, event: StreamEvent): EscalationState {
  const data = event.data as Record<string, unknown>;
  if (event.type === 'ConversationStarted') {
    return { propertyId: data.propertyId as string, ticketId: null, status: 'none', wait: null };
  }
  if (state === null) return state;
  const at = data.at as string;
  switch (event.type) {
    case 'TicketOpened':
      return { ...state, ticketId: data.ticketId as string, status: 'open', wait: openWait(at) };
    case 'TicketReleased':
      return state.status === 'assigned' ? { ...state, status: 'open', wait: openWait(at) } : state;
    case 'TicketTakenOver':
      return state.status === 'open' ? { ...state, status: 'assigned', wait: null } : state;
    case 'TicketReassigned':
      // OPEN → ASSIGNED ends the open wait; ASSIGNED → ASSIGNED keeps the guest waiting.
      if (state.status === 'open') return { ...state, status: 'assigned', wait: null };
      return state;
    case 'GuestMessagePosted':
      return state.status === 'assigned' && state.wait === null
        ? { ...state, wait: { reason: 'guest_waiting', since: at, escalated: false } }
        : state;
    case 'EmployeeReplied':
      return state.status === 'assigned' ? { ...state, wait: null } : state;
    case 'TicketClosed':
      return state.status === 'open' || state.status === 'assigned' ? { ...state, status: 'closed', wait: null } : state;
    case 'TicketEscalated':
      return state.wait && sameWait(state.wait, data.reason as EscalationReason, data.waitingSince as string)
        ? { ...state, wait: { ...state.wait, escalated: true } }
        : state;
    default:
      return state;
  }
}

const sameWait = (wait: Wait, reason: EscalationReason, since: string) => wait.reason === reason && wait.since === since;

/** When the current wait escalates (epoch ms), or null: nobody waiting, escalated already, or escalation off. */
export function dueAt(view: EscalationView, escalateAfterMinutes: number | null): number | null {
  if (view.wait === null || view.wait.escalated || escalateAfterMinutes === null) return null;
  return Date.parse(view.wait.since) + escalateAfterMinutes * MINUTE_MS;
}

/** The command id of an escalation: one per ticket and wait, so a repeat is answered, not appended. */
export const escalationCommandId = (ticketId: string, reason: EscalationReason, waitingSince: string) =>
  `escalate:${ticketId}:${reason}:${waitingSince}`;

/**
 * Escalates the wait the watcher found due, if it still holds on the conversation's own stream:
 * same ticket, same wait, not escalated yet, escalation on, and waited long enough by `at`.
 * Otherwise nothing (a due time the watcher computed before seeing a take-over, reply, close or
 * settings change is dropped, not refused).
 */
export function decideEscalation(
  state: EscalationState,
  cmd: {
    propertyId: string;
    ticketId: string;
    reason: EscalationReason;
    waitingSince: string;
    escalateAfterMinutes: number | null;
    at: string;
  },
): ConversationEvent[] {
  if (state === null || state.propertyId !== cmd.propertyId || state.ticketId !== cmd.ticketId) return [];
  if (state.wait === null || !sameWait(state.wait, cmd.reason, cmd.waitingSince)) return [];
  const due = dueAt(state, cmd.escalateAfterMinutes);
  if (due === null || Date.parse(cmd.at) < due) return [];
  return [
    {
      type: 'TicketEscalated',
      data: {
        ticketId: cmd.ticketId,
        reason: cmd.reason,
        waitingSince: cmd.waitingSince,
        escalateAfterMinutes: cmd.escalateAfterMinutes!,
        at: cmd.at,
      },
    },
  ];
}

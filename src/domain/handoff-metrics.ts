/**
 * Hand-off metrics (how fast people answer support requests). Pure: the per-ticket facts
 * folded from a conversation's events, and their aggregation into percentiles and counts.
 * The `handoffTickets` projection keeps one such record per ticket; the metrics query reads
 * those of a time range and aggregates them here.
 *
 * Only events of people count as human response: the first human reply is the first
 * `EmployeeReplied` of the ticket. AVA's replies (`AiReplyPosted`) and closure messages
 * (`ClosureMessageSent`, sent in AVA's name) are never replies; time before the request
 * (while AVA chatted) is not part of any figure: every figure starts at `TicketOpened`.
 * A reply to an OPEN ticket takes it over and replies in one decision, at one instant:
 * its take-over → first reply is 0.
 *
 * Whose metrics a ticket is: its **first owner's** — whoever took it over from the queue
 * (or the employee an admin reassigned the still-OPEN ticket to). Every figure of the ticket
 * (request → take-over, take-over → first human reply, request → close, its releases,
 * reassignments and escalations) counts for that employee, so the per-employee rows
 * partition the property's taken-over tickets: nothing is counted twice and every ticket
 * that got an owner counts once. The closer is not used: closes are often an admin tidying
 * up, and a reassign moves the work, not the wait the guest had.
 *
 * A window [from, to) selects the tickets OPENED in it (a cohort), and counts only what had
 * happened to them before `to`: the same window asked again later gives the same answer.
 */
import type { ConversationEvent, Employee, SupportDeclineReason, SupportRequestOrigin } from './conversation.js';
import type { EscalationReason } from './escalation.js';

export interface HandoffTicket {
  ticketId: string;
  propertyId: string;
  conversationId: string;
  origin: SupportRequestOrigin;
  openedAt: string;
  /** When the ticket first got an owner (take-over, a reply to it while open, or an admin's reassign while open). */
  takenOverAt: string | null;
  takenOverBy: Employee | null;
  takenOverVia: 'take_over' | 'reassign' | null;
  /** The ticket's first `EmployeeReplied` (never AVA). */
  firstHumanReplyAt: string | null;
  firstHumanReplyBy: Employee | null;
  closedAt: string | null;
  closedBy: Employee | null;
  releases: Array<{ at: string; previousOwnerId: string; by: Employee }>;
  reassigns: Array<{ at: string; previousOwnerId: string | null; to: Employee; by: Employee }>;
  escalations: Array<{ at: string; reason: EscalationReason }>;
}

export interface DeclinedRequest {
  propertyId: string;
  conversationId: string;
  at: string;
  reasons: SupportDeclineReason[];
  origin: SupportRequestOrigin;
}

export const DECLINE_REASONS: readonly SupportDeclineReason[] = ['request_support_chat_off', 'chat_mode_not_hybrid', 'ticket_already_active'];

/** The events that change a ticket's facts (besides `TicketOpened`, which creates them). */
export const HANDOFF_TICKET_EVENTS: ReadonlySet<ConversationEvent['type']> = new Set([
  'TicketTakenOver',
  'TicketReassigned',
  'TicketReleased',
  'EmployeeReplied',
  'TicketClosed',
  'TicketEscalated',
]);

export function openedTicket(
  event: Extract<ConversationEvent, { type: 'TicketOpened' }>,
  where: { propertyId: string; conversationId: string },
): HandoffTicket {
  return {
    ticketId: event.data.ticketId,
    propertyId: where.propertyId,
    conversationId: where.conversationId,
    origin: event.data.origin,
    openedAt: event.data.at,
    takenOverAt: null,
    takenOverBy: null,
    takenOverVia: null,
    firstHumanReplyAt: null,
    firstHumanReplyBy: null,
    closedAt: null,
    closedBy: null,
    releases: [],
    reassigns: [],
    escalations: [],
  };
}

const person = (e: Employee): Employee => ({ id: e.id, name: e.name });

/** One event of the ticket's conversation; events of another ticket (or none) leave it as it is. */
export function evolveHandoffTicket(t: HandoffTicket, event: ConversationEvent): HandoffTicket {
  if (!('ticketId' in event.data) || event.data.ticketId !== t.ticketId) return t;
  switch (event.type) {
    case 'TicketTakenOver': {
      if (t.takenOverAt !== null) return t;
      const by = { id: event.data.employeeId, name: event.data.employeeName };
      return { ...t, takenOverAt: event.data.at, takenOverBy: by, takenOverVia: 'take_over' };
    }
    case 'TicketReassigned': {
      const to = { id: event.data.employeeId, name: event.data.employeeName };
      const reassigns = [...t.reassigns, { at: event.data.at, previousOwnerId: event.data.previousOwnerId, to, by: person(event.data.reassignedBy) }];
      return t.takenOverAt === null
        ? { ...t, reassigns, takenOverAt: event.data.at, takenOverBy: to, takenOverVia: 'reassign' }
        : { ...t, reassigns };
    }
    case 'TicketReleased':
      return { ...t, releases: [...t.releases, { at: event.data.at, previousOwnerId: event.data.previousOwnerId, by: person(event.data.releasedBy) }] };
    case 'EmployeeReplied':
      return t.firstHumanReplyAt !== null
        ? t
        : { ...t, firstHumanReplyAt: event.data.at, firstHumanReplyBy: { id: event.data.employeeId, name: event.data.employeeName } };
    case 'TicketClosed':
      if (t.closedAt !== null) return t;
      return { ...t, closedAt: event.data.at, closedBy: event.data.closedBy ? person(event.data.closedBy) : { id: event.data.employeeId, name: event.data.employeeId } };
    case 'TicketEscalated':
      return { ...t, escalations: [...t.escalations, { at: event.data.at, reason: event.data.reason }] };
    default:
      return t;
  }
}

// ---- aggregation -----------------------------------------------------------------------

/** [from, to): `from` inclusive, `to` exclusive. */
export interface MetricsWindow {
  from: Date;
  to: Date;
}

export interface DurationStats {
  count: number;
  /** Nearest-rank percentiles (an observed value, never interpolated), in milliseconds; null without values. */
  p50Ms: number | null;
  p90Ms: number | null;
}

export interface HandoffCounts {
  /** Tickets opened in the window. */
  opened: number;
  /** Of those, tickets that got an owner before `to`. */
  takenOver: number;
  /** Of those, tickets closed before `to`. */
  closed: number;
  /** Events before `to`: a ticket released twice counts 2 (likewise reassigned, escalated). */
  released: number;
  reassigned: number;
  escalated: number;
}

export interface HandoffFigures {
  counts: HandoffCounts;
  requestToTakeOver: DurationStats;
  takeOverToFirstHumanReply: DurationStats;
  requestToClose: DurationStats;
}

export interface EmployeeHandoffFigures extends HandoffFigures {
  employeeId: string;
  /** As the employee's most recently opened ticket named them; null for an employee with no tickets in the window. */
  employeeName: string | null;
}

export interface DeclineFigures {
  /** Support requests declined in the window. */
  total: number;
  /** Per reason; one request may have several, so these can add up to more than `total`. */
  byReason: Record<SupportDeclineReason, number>;
}

export interface HandoffMetrics {
  from: string;
  to: string;
  property: HandoffFigures & { declined: DeclineFigures };
  /** First owners, by employee id; with an `employeeId` filter exactly that one (zeros if none). */
  employees: EmployeeHandoffFigures[];
}

/** Nearest-rank percentile: the smallest value with at least p% of the values at or below it. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile must be in (0, 100], got ${p}`);
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil((p / 100) * sorted.length) - 1]!;
}

export function durationStats(values: readonly number[]): DurationStats {
  return { count: values.length, p50Ms: percentile(values, 50), p90Ms: percentile(values, 90) };
}

const ms = (iso: string) => Date.parse(iso);
/** Event times come from the commands' clock; a decision stamped a moment before the one it followed never makes a negative wait. */
const between = (start: string, end: string) => Math.max(0, ms(end) - ms(start));

const inWindow = (at: string, w: MetricsWindow) => ms(at) >= w.from.getTime() && ms(at) < w.to.getTime();

/** The ticket as it was just before `to`: facts from `to` on are not known yet. */
function asOf(t: HandoffTicket, to: Date): HandoffTicket {
  const before = (at: string | null) => at !== null && ms(at) < to.getTime();
  const taken = before(t.takenOverAt);
  return {
    ...t,
    takenOverAt: taken ? t.takenOverAt : null,
    takenOverBy: taken ? t.takenOverBy : null,
    takenOverVia: taken ? t.takenOverVia : null,
    firstHumanReplyAt: before(t.firstHumanReplyAt) ? t.firstHumanReplyAt : null,
    firstHumanReplyBy: before(t.firstHumanReplyAt) ? t.firstHumanReplyBy : null,
    closedAt: before(t.closedAt) ? t.closedAt : null,
    closedBy: before(t.closedAt) ? t.closedBy : null,
    releases: t.releases.filter((r) => before(r.at)),
    reassigns: t.reassigns.filter((r) => before(r.at)),
    escalations: t.escalations.filter((e) => before(e.at)),
  };
}

function figures(tickets: readonly HandoffTicket[]): HandoffFigures {
  const toTakeOver: number[] = [];
  const toReply: number[] = [];
  const toClose: number[] = [];
  const counts: HandoffCounts = { opened: 0, takenOver: 0, closed: 0, released: 0, reassigned: 0, escalated: 0 };
  for (const t of tickets) {
    counts.opened++;
    if (t.takenOverAt !== null) {
      counts.takenOver++;
      toTakeOver.push(between(t.openedAt, t.takenOverAt));
      if (t.firstHumanReplyAt !== null) toReply.push(between(t.takenOverAt, t.firstHumanReplyAt));
    }
    if (t.closedAt !== null) {
      counts.closed++;
      toClose.push(between(t.openedAt, t.closedAt));
    }
    counts.released += t.releases.length;
    counts.reassigned += t.reassigns.length;
    counts.escalated += t.escalations.length;
  }
  return {
    counts,
    requestToTakeOver: durationStats(toTakeOver),
    takeOverToFirstHumanReply: durationStats(toReply),
    requestToClose: durationStats(toClose),
  };
}

export function declineFigures(declines: readonly DeclinedRequest[]): DeclineFigures {
  const byReason = Object.fromEntries(DECLINE_REASONS.map((r) => [r, 0])) as Record<SupportDeclineReason, number>;
  for (const d of declines) for (const r of new Set(d.reasons)) byReason[r] = (byReason[r] ?? 0) + 1;
  return { total: declines.length, byReason };
}

/**
 * The metrics of the tickets opened and the requests declined in the window. Records outside
 * it are ignored (the caller may pass more); facts from `to` on are not counted.
 */
export function aggregateHandoffMetrics(
  tickets: readonly HandoffTicket[],
  declines: readonly DeclinedRequest[],
  window: MetricsWindow,
  options: { employeeId?: string } = {},
): HandoffMetrics {
  const cohort = tickets.filter((t) => inWindow(t.openedAt, window)).map((t) => asOf(t, window.to));
  const byOwner = new Map<string, HandoffTicket[]>();
  for (const t of cohort) {
    if (t.takenOverBy === null) continue;
    byOwner.set(t.takenOverBy.id, [...(byOwner.get(t.takenOverBy.id) ?? []), t]);
  }
  const ids = options.employeeId !== undefined ? [options.employeeId] : [...byOwner.keys()].sort();
  const employees = ids.map((employeeId): EmployeeHandoffFigures => {
    const own = byOwner.get(employeeId) ?? [];
    const latest = own.reduce<HandoffTicket | null>((a, t) => (a === null || ms(t.openedAt) >= ms(a.openedAt) ? t : a), null);
    return { employeeId, employeeName: latest?.takenOverBy?.name ?? null, ...figures(own) };
  });
  return {
    from: window.from.toISOString(),
    to: window.to.toISOString(),
    property: { ...figures(cohort), declined: declineFigures(declines.filter((d) => inWindow(d.at, window))) },
    employees,
  };
}

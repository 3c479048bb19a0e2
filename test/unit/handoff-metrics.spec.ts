/** The pure part of the hand-off metrics: the per-ticket fold and the aggregation (domain/handoff-metrics.ts). */
import { describe, expect, it } from '@jest/globals';
import type { ConversationEvent } from '../../src/domain/conversation.js';
import {
  type DeclinedRequest,
  type HandoffTicket,
  aggregateHandoffMetrics,
  declineFigures,
  durationStats,
  evolveHandoffTicket,
  openedTicket,
  percentile,
} from '../../src/domain/handoff-metrics.js';

const T0 = Date.parse('2030-06-01T08:00:00.000Z');
/** 08:00 + m minutes, as the events' `at`. */
const at = (m: number) => new Date(T0 + m * 60_000).toISOString();
const MIN = 60_000;

const alice = { id: 'alice', name: 'Alice' };
const bob = { id: 'bob', name: 'Bob' };
const grace = { id: 'grace', name: 'Grace' };

/** A ticket's facts, folded from `TicketOpened` at `openedAt` and the given events. */
function ticket(ticketId: string, openedAt: number, events: ConversationEvent[] = []): HandoffTicket {
  const opened = openedTicket(
    { type: 'TicketOpened', data: { ticketId, origin: 'guest', at: at(openedAt) } },
    { propertyId: 'hotel', conversationId: `c-${ticketId}` },
  );
  return events.reduce(evolveHandoffTicket, opened);
}

const ev = {
  takeOver: (ticketId: string, m: number, who = alice): ConversationEvent => ({
    type: 'TicketTakenOver',
    data: { ticketId, employeeId: who.id, employeeName: who.name, at: at(m) },
  }),
  reply: (ticketId: string, m: number, who = alice): ConversationEvent => ({
    type: 'EmployeeReplied',
    data: { ticketId, messageId: `m-${m}`, employeeId: who.id, employeeName: who.name, text: 'hi', at: at(m) },
  }),
  ai: (m: number): ConversationEvent => ({ type: 'AiReplyPosted', data: { messageId: `ai-${m}`, text: 'AVA here', inReplyTo: 'g', at: at(m) } }),
  closureMessage: (ticketId: string, m: number, who = alice): ConversationEvent => ({
    type: 'ClosureMessageSent',
    data: { ticketId, messageId: `cm-${m}`, employeeId: who.id, text: 'Bye', at: at(m) },
  }),
  release: (ticketId: string, m: number, previousOwnerId: string, by = alice): ConversationEvent => ({
    type: 'TicketReleased',
    data: { ticketId, previousOwnerId, releasedBy: by, at: at(m) },
  }),
  reassign: (ticketId: string, m: number, to: typeof alice, previousOwnerId: string | null): ConversationEvent => ({
    type: 'TicketReassigned',
    data: { ticketId, previousOwnerId, employeeId: to.id, employeeName: to.name, reassignedBy: grace, at: at(m) },
  }),
  close: (ticketId: string, m: number, by = alice): ConversationEvent => ({
    type: 'TicketClosed',
    data: { ticketId, employeeId: by.id, closedBy: by, at: at(m) },
  }),
  escalate: (ticketId: string, m: number): ConversationEvent => ({
    type: 'TicketEscalated',
    data: { ticketId, reason: 'open_unattended', waitingSince: at(0), escalateAfterMinutes: 5, at: at(m) },
  }),
};

describe('percentile (nearest rank)', () => {
  it('is null without values and an observed value otherwise, whatever the input order', () => {
    expect(percentile([], 50)).toBeNull();
    expect(percentile([7], 50)).toBe(7);
    expect(percentile([7], 90)).toBe(7);
    expect(percentile([10, 1, 9, 2, 8, 3, 7, 4, 6, 5], 50)).toBe(5);
    expect(percentile([10, 1, 9, 2, 8, 3, 7, 4, 6, 5], 90)).toBe(9);
    expect(percentile([1, 2], 50)).toBe(1); // ceil(0.5·2) = 1st
    expect(percentile([1, 2, 3], 50)).toBe(2);
    expect(percentile([1, 2, 3], 90)).toBe(3); // ceil(0.9·3) = 3rd
    expect(percentile([1, 2, 3], 100)).toBe(3);
  });

  it('refuses a percentile outside (0, 100] and leaves its input alone', () => {
    expect(() => percentile([1], 0)).toThrow(RangeError);
    expect(() => percentile([1], 101)).toThrow(RangeError);
    const values = [3, 1, 2];
    percentile(values, 50);
    expect(values).toEqual([3, 1, 2]);
  });

  it('durationStats gives count, p50 and p90', () => {
    expect(durationStats([])).toEqual({ count: 0, p50Ms: null, p90Ms: null });
    expect(durationStats([4, 2, 3, 1])).toEqual({ count: 4, p50Ms: 2, p90Ms: 4 });
  });
});

describe('a ticket’s facts, folded from its events', () => {
  it('records the first take-over, the first human reply and the close; AVA’s replies and closure messages are not replies', () => {
    const t = ticket('t1', 0, [ev.ai(1), ev.takeOver('t1', 2), ev.ai(3), ev.reply('t1', 5), ev.reply('t1', 6, alice), ev.close('t1', 9), ev.closureMessage('t1', 9)]);
    expect(t).toMatchObject({
      openedAt: at(0),
      takenOverAt: at(2),
      takenOverBy: alice,
      takenOverVia: 'take_over',
      firstHumanReplyAt: at(5),
      firstHumanReplyBy: alice,
      closedAt: at(9),
      closedBy: alice,
    });
  });

  it('a ticket with only AVA messages has no human reply', () => {
    expect(ticket('t1', 0, [ev.takeOver('t1', 1), ev.ai(2), ev.closureMessage('t1', 3), ev.close('t1', 3)]).firstHumanReplyAt).toBeNull();
  });

  it('a reply to an open ticket takes it over and replies at the same instant', () => {
    const t = ticket('t1', 0, [ev.takeOver('t1', 4, bob), ev.reply('t1', 4, bob)]);
    expect([t.takenOverAt, t.firstHumanReplyAt]).toEqual([at(4), at(4)]);
  });

  it('keeps the first owner across releases and reassignments, and lists them; an admin’s reassign of an open ticket is its take-over', () => {
    const t = ticket('t1', 0, [
      ev.takeOver('t1', 1, alice),
      ev.release('t1', 2, 'alice'),
      ev.takeOver('t1', 3, bob),
      ev.reassign('t1', 4, alice, 'bob'),
    ]);
    expect(t.takenOverBy).toEqual(alice);
    expect(t.releases).toEqual([{ at: at(2), previousOwnerId: 'alice', by: alice }]);
    expect(t.reassigns).toEqual([{ at: at(4), previousOwnerId: 'bob', to: alice, by: grace }]);

    const viaReassign = ticket('t2', 0, [ev.reassign('t2', 3, bob, null), ev.takeOver('t2', 5, alice)]);
    expect(viaReassign).toMatchObject({ takenOverAt: at(3), takenOverBy: bob, takenOverVia: 'reassign' });
  });

  it('ignores events of another ticket of the same conversation; counts escalations; names a closer known only by id', () => {
    const t = ticket('t1', 0, [ev.takeOver('t0', 1), ev.escalate('t1', 5), ev.escalate('t1', 12)]);
    expect(t.takenOverAt).toBeNull();
    expect(t.escalations.map((e) => e.at)).toEqual([at(5), at(12)]);
    const legacy = evolveHandoffTicket(t, { type: 'TicketClosed', data: { ticketId: 't1', employeeId: 'old-admin', at: at(20) } });
    expect(legacy.closedBy).toEqual({ id: 'old-admin', name: 'old-admin' });
  });
});

describe('aggregation', () => {
  const window = { from: new Date(T0), to: new Date(T0 + 60 * MIN) };

  it('computes the property’s figures and one row per first owner, which partition the taken-over tickets', () => {
    const tickets = [
      ticket('a', 0, [ev.takeOver('a', 2, alice), ev.reply('a', 3, alice), ev.close('a', 10, alice)]), // 2, 1, 10
      ticket('b', 5, [ev.takeOver('b', 9, alice), ev.release('b', 11, 'alice'), ev.takeOver('b', 12, bob), ev.reply('b', 15, bob), ev.close('b', 25, grace)]), // 4, 6, 20
      ticket('c', 10, [ev.takeOver('c', 10, bob), ev.reply('c', 10, bob)]), // 0, 0, open
      ticket('d', 20, [ev.escalate('d', 25)]), // never taken
    ];
    const m = aggregateHandoffMetrics(tickets, [], window);
    expect(m.from).toBe(at(0));
    expect(m.to).toBe(at(60));
    expect(m.property).toMatchObject({
      counts: { opened: 4, takenOver: 3, closed: 2, released: 1, reassigned: 0, escalated: 1 },
      requestToTakeOver: { count: 3, p50Ms: 2 * MIN, p90Ms: 4 * MIN },
      takeOverToFirstHumanReply: { count: 3, p50Ms: 1 * MIN, p90Ms: 6 * MIN },
      requestToClose: { count: 2, p50Ms: 10 * MIN, p90Ms: 20 * MIN },
    });
    expect(m.employees).toEqual([
      {
        employeeId: 'alice',
        employeeName: 'Alice',
        counts: { opened: 2, takenOver: 2, closed: 2, released: 1, reassigned: 0, escalated: 0 },
        requestToTakeOver: { count: 2, p50Ms: 2 * MIN, p90Ms: 4 * MIN },
        // Ticket b: from Alice's take-over (09) to the ticket's first human reply (Bob's, 15).
        takeOverToFirstHumanReply: { count: 2, p50Ms: 1 * MIN, p90Ms: 6 * MIN },
        requestToClose: { count: 2, p50Ms: 10 * MIN, p90Ms: 20 * MIN },
      },
      {
        employeeId: 'bob',
        employeeName: 'Bob',
        counts: { opened: 1, takenOver: 1, closed: 0, released: 0, reassigned: 0, escalated: 0 },
        requestToTakeOver: { count: 1, p50Ms: 0, p90Ms: 0 },
        takeOverToFirstHumanReply: { count: 1, p50Ms: 0, p90Ms: 0 },
        requestToClose: { count: 0, p50Ms: null, p90Ms: null },
      },
    ]);
    const sum = (k: 'opened' | 'closed' | 'released') => m.employees.reduce((n, e) => n + e.counts[k], 0);
    expect(sum('opened')).toBe(m.property.counts.takenOver);
  });

  it('takes the tickets opened in [from, to) and only what happened to them before `to`', () => {
    const tickets = [
      ticket('before', -1, [ev.takeOver('before', 1)]),
      ticket('atFrom', 0, [ev.takeOver('atFrom', 30), ev.reply('atFrom', 59), ev.close('atFrom', 60), ev.release('atFrom', 61, 'alice')]),
      ticket('late', 50, [ev.takeOver('late', 70), ev.escalate('late', 55), ev.escalate('late', 65)]),
      ticket('atTo', 60, [ev.takeOver('atTo', 61)]),
    ];
    const m = aggregateHandoffMetrics(tickets, [], window);
    expect(m.property.counts).toEqual({ opened: 2, takenOver: 1, closed: 0, released: 0, reassigned: 0, escalated: 1 });
    expect(m.property.requestToTakeOver).toEqual({ count: 1, p50Ms: 30 * MIN, p90Ms: 30 * MIN });
    expect(m.property.takeOverToFirstHumanReply).toEqual({ count: 1, p50Ms: 29 * MIN, p90Ms: 29 * MIN });
    expect(m.property.requestToClose.count).toBe(0);
    // "late" had no owner before `to`: nobody's row.
    expect(m.employees.map((e) => [e.employeeId, e.counts.opened])).toEqual([['alice', 1]]);
  });

  it('with an employee id: that one row (zeros for an employee without tickets), the property whole', () => {
    const tickets = [ticket('a', 0, [ev.takeOver('a', 2, alice)]), ticket('b', 0, [ev.takeOver('b', 3, bob)])];
    expect(aggregateHandoffMetrics(tickets, [], window, { employeeId: 'bob' }).employees.map((e) => e.employeeId)).toEqual(['bob']);
    const nobody = aggregateHandoffMetrics(tickets, [], window, { employeeId: 'carol' });
    expect(nobody.property.counts.opened).toBe(2);
    expect(nobody.employees).toEqual([
      {
        employeeId: 'carol',
        employeeName: null,
        counts: { opened: 0, takenOver: 0, closed: 0, released: 0, reassigned: 0, escalated: 0 },
        requestToTakeOver: { count: 0, p50Ms: null, p90Ms: null },
        takeOverToFirstHumanReply: { count: 0, p50Ms: null, p90Ms: null },
        requestToClose: { count: 0, p50Ms: null, p90Ms: null },
      },
    ]);
  });

  it('never makes a negative wait out of a decision stamped a moment before the event it followed', () => {
    const t = { ...ticket('a', 10), takenOverAt: at(9), takenOverBy: alice, takenOverVia: 'take_over' as const };
    expect(aggregateHandoffMetrics([t], [], window).property.requestToTakeOver).toEqual({ count: 1, p50Ms: 0, p90Ms: 0 });
  });

  it('counts declined requests in the window, by reason (one request may have several)', () => {
    const decline = (m: number, reasons: DeclinedRequest['reasons']): DeclinedRequest => ({
      propertyId: 'hotel',
      conversationId: 'c',
      at: at(m),
      reasons,
      origin: 'guest',
    });
    const declines = [
      decline(-1, ['chat_mode_not_hybrid']),
      decline(0, ['request_support_chat_off', 'chat_mode_not_hybrid']),
      decline(30, ['ticket_already_active']),
      decline(59, ['chat_mode_not_hybrid']),
      decline(60, ['request_support_chat_off']),
    ];
    expect(aggregateHandoffMetrics([], declines, window).property.declined).toEqual({
      total: 3,
      byReason: { request_support_chat_off: 1, chat_mode_not_hybrid: 2, ticket_already_active: 1 },
    });
    expect(declineFigures([])).toEqual({ total: 0, byReason: { request_support_chat_off: 0, chat_mode_not_hybrid: 0, ticket_already_active: 0 } });
  });
});

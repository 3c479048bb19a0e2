/**
 * SPEC §2 "Unattended tickets" (per property, admins set it; off by default): a ticket OPEN for
 * longer than `escalateAfterMinutes`, or an ASSIGNED ticket whose guest has waited that long
 * for a human answer, raises an escalation — once per ticket and wait, recorded as an event.
 *
 * - open wait: since the ticket opened, or was released back to OPEN; ends on take-over,
 *   reassignment or close;
 * - guest wait: since the guest's oldest message after the last employee reply on an ASSIGNED
 *   ticket (reassigning keeps the guest waiting); ends on a reply, release or close;
 * - the decision re-checks the wait on the stream when the watcher finds it due: a wait that
 *   ended, changed or escalated already, or is not due yet by the clock, is dropped (no events).
 */
import { describe, expect, it } from '@jest/globals';
import {
  type EscalationReason,
  type EscalationState,
  type StreamEvent,
  decideEscalation,
  dueAt,
  escalationCommandId,
  evolveEscalation,
} from '../../src/domain/escalation.js';
import {
  DEFAULT_ESCALATION_SETTINGS,
  DEFAULT_PERSONAL_SETTINGS,
  type EscalationSettings,
  type EmployeeEvent,
  type PersonalSettings,
  type PropertySettingsEvent,
  decideEscalationSettings,
  decidePersonalSettings,
  evolveEscalationSettings,
  evolvePersonalSettings,
  evolvePropertySettings,
  DEFAULT_PROPERTY_SETTINGS,
} from '../../src/domain/settings.js';
import { deciderSpec } from './given-when-then.js';

const given = deciderSpec<EscalationState, StreamEvent>(evolveEscalation, () => null);

const conversationId = 'conv-esc';
const propertyId = 'hotel-esc';
const ticketId = 'ticket-1';
const alice = { id: 'emp-alice', name: 'Alice' };
const bob = { id: 'emp-bob', name: 'Bob' };
const grace = { id: 'emp-grace', name: 'Grace' };

/** Minutes (and seconds) after 10:00 on a fixed day. */
const t = (minutes: number, seconds = 0) => new Date(Date.UTC(2025, 0, 1, 10, minutes, seconds)).toISOString();

const started = (): StreamEvent => ({ type: 'ConversationStarted', data: { conversationId, propertyId, guestName: 'Gus', at: t(0) } });
const opened = (minute: number, id = ticketId): StreamEvent => ({ type: 'TicketOpened', data: { ticketId: id, origin: 'guest', at: t(minute) } });
const takenOver = (minute: number, by = alice): StreamEvent => ({
  type: 'TicketTakenOver',
  data: { ticketId, employeeId: by.id, employeeName: by.name, at: t(minute) },
});
const guestWrote = (minute: number, messageId = `g-${minute}`): StreamEvent => ({
  type: 'GuestMessagePosted',
  data: { messageId, text: 'Anyone?', at: t(minute) },
});
const replied = (minute: number, by = alice): StreamEvent => ({
  type: 'EmployeeReplied',
  data: { ticketId, messageId: `r-${minute}`, employeeId: by.id, employeeName: by.name, text: 'Here!', at: t(minute) },
});
const closed = (minute: number, by = alice): StreamEvent => ({ type: 'TicketClosed', data: { ticketId, employeeId: by.id, at: t(minute) } });
const released = (minute: number, by = alice): StreamEvent => ({
  type: 'TicketReleased',
  data: { ticketId, previousOwnerId: by.id, releasedBy: by, at: t(minute) },
});
const reassigned = (minute: number, to = bob, previousOwnerId: string | null = alice.id): StreamEvent => ({
  type: 'TicketReassigned',
  data: { ticketId, previousOwnerId, employeeId: to.id, employeeName: to.name, reassignedBy: grace, at: t(minute) },
});
const escalated = (reason: EscalationReason, since: string, minute: number, minutes = 5): StreamEvent => ({
  type: 'TicketEscalated',
  data: { ticketId, reason, waitingSince: since, escalateAfterMinutes: minutes, at: t(minute) },
});

/** The watcher found this wait due and asks, at `now`, with the property's current setting. */
const escalate =
  (reason: EscalationReason, since: string, now: string, escalateAfterMinutes: number | null = 5, id = ticketId, property = propertyId) =>
  (state: EscalationState) =>
    decideEscalation(state, { propertyId: property, ticketId: id, reason, waitingSince: since, escalateAfterMinutes, at: now });

const openTicket = () => [started(), opened(1)];
const assigned = () => [...openTicket(), takenOver(2)];

describe('open ticket nobody takes over', () => {
  it('escalates once it has been OPEN for escalateAfterMinutes', () => {
    given(openTicket())
      .when(escalate('open_unattended', t(1), t(6)))
      .then([escalated('open_unattended', t(1), 6)]);
  });

  it('not a second earlier', () => {
    given(openTicket())
      .when(escalate('open_unattended', t(1), t(5, 59)))
      .thenNothing();
  });

  it('not at all with escalation off (null)', () => {
    given(openTicket())
      .when(escalate('open_unattended', t(1), t(59), null))
      .thenNothing();
  });

  it('only once per wait: a repeat after the escalation is dropped', () => {
    given([...openTicket(), escalated('open_unattended', t(1), 6)])
      .when(escalate('open_unattended', t(1), t(30)))
      .thenNothing();
  });

  it.each<[string, StreamEvent]>([
    ['taken over', takenOver(3)],
    ['reassigned by an admin', reassigned(3, bob, null)],
    ['closed', closed(3)],
  ])('not once it was %s', (_what, ended) => {
    given([...openTicket(), ended])
      .when(escalate('open_unattended', t(1), t(6)))
      .thenNothing();
  });

  it('a released ticket waits again from the release, and escalates for that wait', () => {
    given([...assigned(), released(10)])
      .when(escalate('open_unattended', t(10), t(15)))
      .then([escalated('open_unattended', t(10), 15)]);
  });

  it('after a release, the wait from the first opening is over', () => {
    given([...assigned(), released(10)])
      .when(escalate('open_unattended', t(1), t(15)))
      .thenNothing();
  });

  it('a longer setting than the watcher assumed: not due yet, by the setting in force', () => {
    given(openTicket())
      .when(escalate('open_unattended', t(1), t(6), 10))
      .thenNothing();
  });

  it('not for another ticket of the conversation (a due time left from an earlier ticket)', () => {
    given([...openTicket(), takenOver(2), closed(3), opened(4, 'ticket-2')])
      .when(escalate('open_unattended', t(1), t(20)))
      .thenNothing();
  });

  it('not in an unknown conversation, nor in one of another property', () => {
    given([]).when(escalate('open_unattended', t(1), t(6))).thenNothing();
    given(openTicket())
      .when(escalate('open_unattended', t(1), t(6), 5, ticketId, 'another-hotel'))
      .thenNothing();
  });
});

describe('guest waiting for an answer on an ASSIGNED ticket', () => {
  it('escalates once the guest waited escalateAfterMinutes since their message', () => {
    given([...assigned(), guestWrote(3)])
      .when(escalate('guest_waiting', t(3), t(8)))
      .then([escalated('guest_waiting', t(3), 8)]);
  });

  it('waits since the OLDEST unanswered message', () => {
    const stream = [...assigned(), guestWrote(3), guestWrote(5), guestWrote(7)];
    given(stream).when(escalate('guest_waiting', t(3), t(8))).then([escalated('guest_waiting', t(3), 8)]);
    given(stream).when(escalate('guest_waiting', t(7), t(12))).thenNothing();
  });

  it('a reply ends the wait; the next message starts a new one, escalated on its own', () => {
    const stream = [...assigned(), guestWrote(3), replied(4), guestWrote(6)];
    given(stream).when(escalate('guest_waiting', t(3), t(8))).thenNothing();
    given(stream).when(escalate('guest_waiting', t(6), t(11))).then([escalated('guest_waiting', t(6), 11)]);
  });

  it('an escalated wait is not escalated again when the guest keeps writing', () => {
    const stream = [...assigned(), guestWrote(3), escalated('guest_waiting', t(3), 8), guestWrote(9)];
    given(stream).when(escalate('guest_waiting', t(3), t(20))).thenNothing();
    given(stream).when(escalate('guest_waiting', t(9), t(20))).thenNothing();
  });

  it('reassigning keeps the guest waiting since their message', () => {
    given([...assigned(), guestWrote(3), reassigned(4)])
      .when(escalate('guest_waiting', t(3), t(8)))
      .then([escalated('guest_waiting', t(3), 8)]);
  });

  it('messages written while the ticket was OPEN belong to the open wait: taking over starts no guest wait', () => {
    given([...openTicket(), guestWrote(1), takenOver(2)])
      .when(escalate('guest_waiting', t(1), t(10)))
      .thenNothing();
  });

  it.each<[string, StreamEvent]>([
    ['released', released(4)],
    ['closed', closed(4)],
  ])('not once the ticket was %s', (_what, ended) => {
    given([...assigned(), guestWrote(3), ended])
      .when(escalate('guest_waiting', t(3), t(10)))
      .thenNothing();
  });

  it('the guest writing with no ticket, or after the close, is nobody waiting', () => {
    given([started(), guestWrote(1)]).when(escalate('guest_waiting', t(1), t(10))).thenNothing();
    given([...assigned(), closed(3), guestWrote(4)]).when(escalate('guest_waiting', t(4), t(10))).thenNothing();
  });
});

describe('the due time the watcher keeps (the same fold)', () => {
  const view = (events: StreamEvent[]) => {
    const state = given(events).state;
    if (state === null) throw new Error('fixture must start the conversation');
    return state;
  };

  it('is the wait start plus escalateAfterMinutes', () => {
    expect(dueAt(view(openTicket()), 5)).toBe(Date.parse(t(6)));
    expect(dueAt(view([...assigned(), guestWrote(3), guestWrote(4)]), 10)).toBe(Date.parse(t(13)));
  });

  it('is none with escalation off, with nobody waiting, or once escalated', () => {
    expect(dueAt(view(openTicket()), null)).toBeNull();
    expect(dueAt(view(assigned()), 5)).toBeNull();
    expect(dueAt(view([...openTicket(), escalated('open_unattended', t(1), 6)]), 5)).toBeNull();
  });

  it('an escalation of another wait does not mark the current one', () => {
    expect(dueAt(view([...openTicket(), escalated('open_unattended', t(0), 6)]), 5)).toBe(Date.parse(t(6)));
  });

  it('one command id per ticket and wait', () => {
    expect(escalationCommandId(ticketId, 'open_unattended', t(1))).toBe(escalationCommandId(ticketId, 'open_unattended', t(1)));
    expect(new Set([
      escalationCommandId(ticketId, 'open_unattended', t(1)),
      escalationCommandId(ticketId, 'guest_waiting', t(1)),
      escalationCommandId(ticketId, 'open_unattended', t(2)),
      escalationCommandId('ticket-2', 'open_unattended', t(1)),
    ]).size).toBe(4);
  });
});

describe('escalation setting (property settings stream)', () => {
  const givenSettings = deciderSpec<EscalationSettings, PropertySettingsEvent>(evolveEscalationSettings, () => ({ ...DEFAULT_ESCALATION_SETTINGS }));
  const changed = (escalateAfterMinutes: number | null, minute = 1): PropertySettingsEvent => ({
    type: 'EscalationSettingsChanged',
    data: { escalateAfterMinutes, changedBy: grace.id, at: t(minute) },
  });

  it('is off by default', () => {
    expect(givenSettings([]).state).toEqual({ escalateAfterMinutes: null });
  });

  it('a change is recorded with who and when; null switches it off again', () => {
    givenSettings([]).when((s) => decideEscalationSettings(s, 5, grace.id, t(10))).then([changed(5, 10)]);
    givenSettings([changed(5)]).when((s) => decideEscalationSettings(s, null, grace.id, t(10))).then([changed(null, 10)]);
  });

  it('saving the current value appends nothing', () => {
    givenSettings([]).when((s) => decideEscalationSettings(s, null, grace.id, t(10))).thenNothing();
    givenSettings([changed(30)]).when((s) => decideEscalationSettings(s, 30, grace.id, t(10))).thenNothing();
  });

  it.each([0, 1441, 2.5, -5])('refuses %p minutes', (minutes) => {
    givenSettings([])
      .when((s) => decideEscalationSettings(s, minutes, grace.id, t(10)))
      .thenThrows('invalid', 'escalate_after_minutes_out_of_range');
  });

  it('accepts the bounds 1 and 1440', () => {
    givenSettings([]).when((s) => decideEscalationSettings(s, 1, grace.id, t(10))).then([changed(1, 10)]);
    givenSettings([]).when((s) => decideEscalationSettings(s, 1440, grace.id, t(10))).then([changed(1440, 10)]);
  });

  it('evolve takes the latest value; the live chat settings and push switch do not see it', () => {
    expect(givenSettings([changed(5), changed(15, 2)]).state).toEqual({ escalateAfterMinutes: 15 });
    expect([changed(5)].reduce(evolvePropertySettings, DEFAULT_PROPERTY_SETTINGS)).toEqual(DEFAULT_PROPERTY_SETTINGS);
  });
});

describe('personal settings record the saver role (how the alerts projection knows the admins)', () => {
  type WithRole = PersonalSettings & { role: 'agent' | 'admin' | null };
  const evolve = (s: WithRole, e: EmployeeEvent): WithRole => ({
    ...evolvePersonalSettings(s, e),
    role: e.type === 'PersonalSettingsChanged' ? (e.data.role ?? null) : s.role,
  });
  const givenEmployee = deciderSpec<WithRole, EmployeeEvent>(evolve, () => ({ ...DEFAULT_PERSONAL_SETTINGS, role: null }));
  const saved = (settings: PersonalSettings, role?: 'agent' | 'admin', minute = 1): EmployeeEvent => ({
    type: 'PersonalSettingsChanged',
    data: role ? { ...settings, employeeId: grace.id, role, at: t(minute) } : { ...settings, employeeId: grace.id, at: t(minute) },
  });
  const optIn: PersonalSettings = { ...DEFAULT_PERSONAL_SETTINGS, incomingSupportRequests: true };

  it('a change records the role', () => {
    givenEmployee([])
      .when((s) => decidePersonalSettings(s, optIn, grace.id, t(10), { current: 'admin', recorded: s.role }))
      .then([saved(optIn, 'admin', 10)]);
  });

  it('saving unchanged settings records a role not recorded yet (an admin who saved before roles were)', () => {
    givenEmployee([saved(optIn)])
      .when((s) => decidePersonalSettings(s, optIn, grace.id, t(10), { current: 'admin', recorded: s.role }))
      .then([saved(optIn, 'admin', 10)]);
  });

  it('saving unchanged settings with the recorded role appends nothing', () => {
    givenEmployee([saved(optIn, 'admin')])
      .when((s) => decidePersonalSettings(s, optIn, grace.id, t(10), { current: 'admin', recorded: s.role }))
      .thenNothing();
  });
});

/**
 * SPEC §2 "Troubleshooting made executable": the help page's three questions, answered from a
 * plain snapshot. Given what the service knows, when the checks run, then the check that
 * explains the symptom fails with what was seen and the help page's fix — one spec per cause,
 * and one where everything is in order.
 */
import { describe, expect, it } from '@jest/globals';
import type { ConversationEvent, EmployeeRole, SupportDeclineReason } from '../../src/domain/conversation.js';
import {
  type Check,
  type CheckId,
  type DiagnosticsSnapshot,
  type ProblemSignal,
  type QuestionId,
  alertSignals,
  conversationSignals,
  diagnose,
  problemStart,
  settingsAllowedSince,
} from '../../src/domain/diagnostics.js';
import type { ChatMode, LiveChatSettings } from '../../src/domain/settings.js';
import { alice, at, bob, closedBy, conversationStarted, grace, reassignedTo, takenOverBy, ticketOpened } from './fixtures.js';

// ---- the story pieces --------------------------------------------------------------------

const declined = (settings: LiveChatSettings, minute = 2, reasons: SupportDeclineReason[] = reasonsFor(settings)): ConversationEvent => ({
  type: 'SupportRequestDeclined',
  data: { reasons, origin: 'guest', settings, at: at(minute) },
});
function reasonsFor(s: LiveChatSettings) {
  const r: SupportDeclineReason[] = [];
  if (!s.requestSupportChat) r.push('request_support_chat_off');
  if (s.chatMode !== 'hybrid') r.push('chat_mode_not_hybrid');
  return r;
}
const liveChatChanged = (requestSupportChat: boolean, chatMode: ChatMode, minute: number) => ({
  requestSupportChat,
  chatMode,
  at: at(minute),
  changedBy: 'grace',
});

/** Everything in order for Alice (an agent): both settings on, push on and configured, both toggles, one browser, last push delivered. */
function snapshot(events: ConversationEvent[] | null = null): DiagnosticsSnapshot {
  return {
    employee: { id: alice.id, name: alice.name, role: 'agent' },
    settings: { requestSupportChat: true, chatMode: 'hybrid', pushNotificationsEnabled: true, liveChatChanges: [liveChatChanged(true, 'hybrid', 0)] },
    pushConfigured: true,
    personal: { incomingSupportRequests: true, assignedChatActivity: true },
    subscriptions: [{ pushService: 'https://push.example.com', createdAt: at(0) }],
    lastDelivery: { status: 'delivered', httpStatus: 201, error: null, at: at(9), pushService: 'https://push.example.com', test: false },
    conversation: events && {
      id: 'conv-1',
      events,
      knownNames: {},
      decision: { kind: 'incoming_support_request', reason: 'alerted', at: at(3), push: { decided: true, deliveries: [delivery('delivered', 201)] } },
    },
  };
}
const delivery = (status: 'delivered' | 'failed' | 'subscription_gone' | 'retrying', httpStatus: number | null, error: string | null = null) => ({
  status,
  httpStatus,
  error,
  at: at(9),
  pushService: 'https://push.example.com',
});

const started = [conversationStarted()];
const open = [...started, ticketOpened('ticket-1', 3)];
const assignedTo = (who = alice) => [...open, takenOverBy(who, 'ticket-1', 4)];

type Change = (s: DiagnosticsSnapshot) => void;
const as = (role: EmployeeRole): Change => (s) => void (s.employee.role = role);

function given(events: ConversationEvent[] | null, ...changes: Change[]) {
  const s = snapshot(events);
  for (const change of changes) change(s);
  return {
    whenDiagnosed() {
      const d = diagnose(s);
      const checkOf = (q: QuestionId, id: CheckId): Check => {
        const found = d[q].checks.find((c) => c.id === id);
        if (!found) throw new Error(`no ${id} in ${q}: ${d[q].checks.map((c) => c.id).join(', ')}`);
        return found;
      };
      return {
        d,
        /** The check fails with this observed value, and its fix says (all of) these words. */
        thenFails(q: QuestionId, id: CheckId, observed: unknown, ...fixSays: string[]) {
          const c = checkOf(q, id);
          expect({ id, ok: c.ok, observed: c.observed }).toEqual({ id, ok: false, observed });
          for (const words of fixSays) expect(c.fix).toContain(words);
          expect(d[q].ok).toBe(false);
          return this;
        },
        thenPasses(q: QuestionId, ...ids: CheckId[]) {
          for (const id of ids.length ? ids : d[q].checks.map((c) => c.id)) {
            const c = checkOf(q, id);
            expect({ id, ok: c.ok, fix: c.fix }).toEqual({ id, ok: true, fix: null });
          }
          return this;
        },
        thenCannotCheck(q: QuestionId, ...ids: CheckId[]) {
          for (const id of ids) expect({ id, ok: checkOf(q, id).ok }).toEqual({ id, ok: null });
          return this;
        },
        check: checkOf,
      };
    },
  };
}

// ---- (a) No Open ticket badge appears ----------------------------------------------------

describe('No Open ticket badge appears', () => {
  it('passes every check while the ticket is open', () => {
    given(open).whenDiagnosed().thenPasses('no_open_ticket');
  });

  it('fails request_support_chat when Request Support Chat is off', () => {
    given(started, (s) => void (s.settings.requestSupportChat = false))
      .whenDiagnosed()
      .thenFails('no_open_ticket', 'request_support_chat', false, 'Ask an admin to turn on Settings → Live Chat → Request Support Chat.')
      .thenPasses('no_open_ticket', 'chat_mode_hybrid');
  });

  it('fails chat_mode_hybrid with the mode seen (AI only, Off)', () => {
    given(started, (s) => void (s.settings.chatMode = 'ai_only'))
      .whenDiagnosed()
      .thenFails('no_open_ticket', 'chat_mode_hybrid', 'ai_only', 'Settings → Live Chat → Chat mode', '“AI + live chat”', 'AVA answers every message');
    given(started, (s) => void (s.settings.chatMode = 'off'))
      .whenDiagnosed()
      .thenFails('no_open_ticket', 'chat_mode_hybrid', 'off', 'nobody answers');
  });

  it('fails support_requested when the guest never asked for a person, and ticket_state says there is none', () => {
    given(started)
      .whenDiagnosed()
      .thenFails('no_open_ticket', 'support_requested', 0, 'has not asked for a person')
      .thenFails('no_open_ticket', 'ticket_state', 'none', 'There is no ticket');
  });

  it('fails declined_request naming the settings that declined it and when, while they are still wrong', () => {
    const then = { requestSupportChat: false, chatMode: 'ai_only' } as const;
    given([...started, declined(then, 2)], (s) => Object.assign(s.settings, { ...then, liveChatChanges: [] }))
      .whenDiagnosed()
      .thenFails(
        'no_open_ticket',
        'declined_request',
        { outcome: 'declined', at: at(2), reasons: ['request_support_chat_off', 'chat_mode_not_hybrid'], settingsThen: then, origin: 'guest', fixedAt: null, fixedBy: null },
        `asked for a person at ${at(2)}`,
        'Request Support Chat was off and the chat mode was “AI only”',
        'has to ask again',
      )
      .thenPasses('no_open_ticket', 'support_requested');
  });

  it('after the settings are fixed: says the request was made before the fix and the guest must ask again', () => {
    const then = { requestSupportChat: false, chatMode: 'hybrid' } as const;
    given([...started, declined(then, 2)], (s) => {
      s.settings.liveChatChanges = [liveChatChanged(false, 'hybrid', 1), liveChatChanged(true, 'hybrid', 5)];
    })
      .whenDiagnosed()
      .thenPasses('no_open_ticket', 'request_support_chat', 'chat_mode_hybrid')
      .thenFails(
        'no_open_ticket',
        'declined_request',
        { outcome: 'declined', at: at(2), reasons: ['request_support_chat_off'], settingsThen: then, origin: 'guest', fixedAt: at(5), fixedBy: 'grace' },
        'Request Support Chat was off',
        `fixed later (at ${at(5)}, by grace)`,
        'made before that',
        'ask the guest to ask for a person again',
      );
  });

  it('passes declined_request when the last request only met a ticket that was already active', () => {
    given([...open, declined({ requestSupportChat: true, chatMode: 'hybrid' }, 5, ['ticket_already_active'])])
      .whenDiagnosed()
      .thenPasses('no_open_ticket');
  });

  it("fails ticket_state when someone took the ticket over, naming them", () => {
    given(assignedTo(bob)).whenDiagnosed().thenFails('no_open_ticket', 'ticket_state', 'assigned', 'Bob took this ticket over', '“Assigned”');
    given(assignedTo(alice)).whenDiagnosed().thenFails('no_open_ticket', 'ticket_state', 'assigned', 'You took this ticket over', '“Assigned to you”');
  });

  it('fails ticket_state when the ticket is closed, saying by whom and when', () => {
    given([...assignedTo(bob), { ...closedBy(bob, 'ticket-1', 8) }])
      .whenDiagnosed()
      .thenFails('no_open_ticket', 'ticket_state', 'closed', `closed at ${at(8)}`, 'asks for a person again');
  });

  it('cannot check the conversation without one, but still checks the settings', () => {
    given(null)
      .whenDiagnosed()
      .thenPasses('no_open_ticket', 'request_support_chat', 'chat_mode_hybrid')
      .thenCannotCheck('no_open_ticket', 'support_requested', 'declined_request', 'ticket_state');
  });
});

// ---- (b) Close Ticket is missing -----------------------------------------------------------

describe('Close Ticket is missing', () => {
  it('passes every check when the ticket is assigned to you', () => {
    given(assignedTo(alice)).whenDiagnosed().thenPasses('close_ticket_missing');
  });

  it('fails ticket_state when there is no ticket', () => {
    given(started).whenDiagnosed().thenFails('close_ticket_missing', 'ticket_state', 'none', 'nothing to close');
  });

  it('fails ticket_state when nobody has taken the ticket over (an agent)', () => {
    given(open).whenDiagnosed().thenFails('close_ticket_missing', 'ticket_state', 'open', 'take it over');
  });

  it('passes for an admin on an open ticket (admins may close it)', () => {
    const r = given(open, as('admin')).whenDiagnosed();
    r.thenPasses('close_ticket_missing', 'ticket_state');
    expect(r.d.close_ticket_missing.ok).toBe(true);
  });

  it('fails ticket_owner with the owner’s name when the ticket is someone else’s and you are not an admin', () => {
    given(assignedTo(bob))
      .whenDiagnosed()
      .thenFails('close_ticket_missing', 'ticket_owner', 'Bob', 'assigned to Bob', 'not its owner and not an admin', 'only Bob or an admin');
  });

  it("passes ticket_owner for an admin on someone else's ticket", () => {
    given(assignedTo(bob), as('admin')).whenDiagnosed().thenPasses('close_ticket_missing');
  });

  it('names a reassigned owner known only by id with the name last seen for that id', () => {
    const events = [...open, reassignedTo({ id: 'emp-carl', name: 'emp-carl' }, grace)];
    const r = given(events, (s) => void (s.conversation!.knownNames = { 'emp-carl': 'Carl' })).whenDiagnosed();
    r.thenFails('close_ticket_missing', 'ticket_owner', 'Carl', 'assigned to Carl');
  });

  it('fails ticket_state when the ticket is already closed', () => {
    given([...assignedTo(alice), closedBy(alice, 'ticket-1', 8)])
      .whenDiagnosed()
      .thenFails('close_ticket_missing', 'ticket_state', 'closed', 'already closed', at(8));
  });
});

// ---- (c) Alerts do not arrive --------------------------------------------------------------

describe('Alerts do not arrive', () => {
  it('passes every check when push is on, set up, toggled, registered, delivered and alerted', () => {
    given(open).whenDiagnosed().thenPasses('alerts_not_arriving');
  });

  it('fails push_switch when the property switch is off', () => {
    given(open, (s) => void (s.settings.pushNotificationsEnabled = false))
      .whenDiagnosed()
      .thenFails('alerts_not_arriving', 'push_switch', false, 'Settings → Customizations → Push Notifications');
  });

  it('fails push_configured when the service has no VAPID keys', () => {
    given(open, (s) => void (s.pushConfigured = false))
      .whenDiagnosed()
      .thenFails('alerts_not_arriving', 'push_configured', false, 'VAPID', 'IT or operations team');
  });

  it('fails personal_toggle on Incoming Support Requests for an open ticket', () => {
    const r = given(open, (s) => void (s.personal.incomingSupportRequests = false)).whenDiagnosed();
    r.thenFails(
      'alerts_not_arriving',
      'personal_toggle',
      { incomingSupportRequests: false, assignedChatActivity: true, relevant: ['incomingSupportRequests'] },
      'Turn on Personal Settings → Incoming Support Requests',
    );
  });

  it('fails personal_toggle on Assigned Chat Activity for a ticket you own, and explains why that one', () => {
    const r = given(assignedTo(alice), (s) => void (s.personal.assignedChatActivity = false)).whenDiagnosed();
    r.thenFails(
      'alerts_not_arriving',
      'personal_toggle',
      { incomingSupportRequests: true, assignedChatActivity: false, relevant: ['assignedChatActivity'] },
      'Personal Settings → Assigned Chat Activity',
    );
    expect(r.check('alerts_not_arriving', 'personal_toggle').note).toContain('You own this ticket');
  });

  it('checks both toggles without a conversation', () => {
    given(null, (s) => void (s.personal.assignedChatActivity = false))
      .whenDiagnosed()
      .thenFails(
        'alerts_not_arriving',
        'personal_toggle',
        { incomingSupportRequests: true, assignedChatActivity: false, relevant: ['incomingSupportRequests', 'assignedChatActivity'] },
        'Assigned Chat Activity',
      )
      .thenCannotCheck('alerts_not_arriving', 'alert_decision');
  });

  it('fails push_subscription with the count when no browser is registered', () => {
    given(open, (s) => void (s.subscriptions = []))
      .whenDiagnosed()
      .thenFails('alerts_not_arriving', 'push_subscription', 0, 'allow notifications');
  });

  it('fails last_push_delivery with status, HTTP status, error and time', () => {
    const failed = { ...delivery('failed', 403, 'forbidden'), test: false };
    given(open, (s) => void (s.lastDelivery = failed))
      .whenDiagnosed()
      .thenFails('alerts_not_arriving', 'last_push_delivery', failed, `HTTP 403 at ${at(9)}`, 'off and on again');
    const gone = { ...delivery('subscription_gone', 410), test: true };
    given(open, (s) => void (s.lastDelivery = gone))
      .whenDiagnosed()
      .thenFails('alerts_not_arriving', 'last_push_delivery', gone, 'expired', 'HTTP 410');
  });

  it('cannot check last_push_delivery before any push, and says how to (a test notification)', () => {
    const r = given(open, (s) => void (s.lastDelivery = null)).whenDiagnosed().thenCannotCheck('alerts_not_arriving', 'last_push_delivery');
    expect(r.check('alerts_not_arriving', 'last_push_delivery').fix).toContain('test notification');
  });

  it.each([
    ['toggle_off', 'Incoming Support Requests was off when this alert went out'],
    ['push_switch_off', 'Push Notifications were off'],
    ['push_unavailable', 'VAPID'],
    ['no_subscription', 'no browser was registered'],
  ])('fails alert_decision with the decision reason %s', (reason, says) => {
    given(open, (s) => void (s.conversation!.decision = { kind: 'incoming_support_request', reason, at: at(3), push: null }))
      .whenDiagnosed()
      .thenFails('alerts_not_arriving', 'alert_decision', { kind: 'incoming_support_request', reason, at: at(3), deliveries: [] }, says);
  });

  it('fails alert_decision with not_owner, naming the owner', () => {
    given(assignedTo(bob), (s) => void (s.conversation!.decision = { kind: 'assigned_chat_activity', reason: 'not_owner', at: at(5), push: null }))
      .whenDiagnosed()
      .thenFails('alerts_not_arriving', 'alert_decision', { kind: 'assigned_chat_activity', reason: 'not_owner', at: at(5), deliveries: [] }, 'Bob owns this ticket');
  });

  it('fails alert_decision when the alert was pushed but no delivery arrived', () => {
    given(open, (s) => void (s.conversation!.decision!.push = { decided: true, deliveries: [delivery('failed', 400, 'bad request')] }))
      .whenDiagnosed()
      .thenFails('alerts_not_arriving', 'alert_decision', { kind: 'incoming_support_request', reason: 'alerted', at: at(3), deliveries: ['failed'] }, 'HTTP 400');
  });

  it('fails alert_decision when a ticket exists but the employee was never considered (never saved their settings)', () => {
    given(open, (s) => void (s.conversation!.decision = null))
      .whenDiagnosed()
      .thenFails('alerts_not_arriving', 'alert_decision', null, 'saved their Personal Settings');
  });
});

// ---- the support bundle's problem start ------------------------------------------------------

describe('when the problem started', () => {
  const signal = (kind: ProblemSignal['kind'], position: string, minute: number): ProblemSignal => ({ kind, position, at: at(minute), description: kind });

  it('is the first signal in log order', () => {
    expect(problemStart([signal('push_failed', '9', 9), signal('declined_request', '4', 2)], { at: at(0), position: '1' })).toMatchObject({
      kind: 'declined_request',
      at: at(2),
    });
  });

  it('is the conversation start when nothing went wrong', () => {
    expect(problemStart([], { at: at(0), position: '1' })).toMatchObject({ kind: 'conversation_started', at: at(0), position: '1' });
  });

  it('counts declined requests by settings and escalations, not requests that met an active ticket', () => {
    const events = [
      declined({ requestSupportChat: false, chatMode: 'hybrid' }, 2),
      declined({ requestSupportChat: true, chatMode: 'hybrid' }, 4, ['ticket_already_active']),
      { type: 'TicketEscalated', data: { ticketId: 't', reason: 'open_unattended', waitingSince: at(3), escalateAfterMinutes: 5, at: at(8) } } as ConversationEvent,
    ].map((event, i) => ({ event, position: String(i + 2) }));
    expect(conversationSignals(events).map((s) => [s.kind, s.description])).toEqual([
      ['declined_request', 'Support request declined: Request Support Chat was off.'],
      ['ticket_escalated', 'Nobody took the ticket over within 5 min.'],
    ]);
  });

  it('counts alerts not pushed and failed pushes, with whom they were for', () => {
    const signals = alertSignals(
      [
        { employeeId: 'emp-alice', kind: 'incoming_support_request', reason: 'push_switch_off', at: at(3), position: '5', push: { decided: true, deliveries: [] } },
        { employeeId: 'emp-bob', kind: 'incoming_support_request', reason: 'alerted', at: at(3), position: '5', push: { decided: true, deliveries: [delivery('failed', 403)] } },
        { employeeId: 'emp-carl', kind: 'incoming_support_request', reason: 'toggle_off', at: at(3), position: '5', push: null },
      ],
      { 'emp-alice': 'Alice' },
    );
    expect(signals.map((s) => s.description)).toEqual([
      'The new support request alert for Alice was not pushed: the property’s Push Notifications switch was off.',
      'The push of the new support request alert to emp-bob at https://push.example.com failed: HTTP 403.',
    ]);
  });

  it('finds when the Live Chat settings last started to allow tickets after a request', () => {
    const changes = [liveChatChanged(true, 'hybrid', 1), liveChatChanged(false, 'hybrid', 3), liveChatChanged(true, 'hybrid', 6)];
    expect(settingsAllowedSince(changes, at(4))).toMatchObject({ at: at(6) });
    expect(settingsAllowedSince(changes.slice(0, 2), at(4))).toBeNull();
  });
});

/**
 * SPEC §2 "Troubleshooting made executable": the help page's three questions — (a) no Open
 * ticket badge appears, (b) Close Ticket is missing, (c) alerts do not arrive — answered by
 * checks over what the service knows. Pure: the caller reads a plain snapshot (settings, the
 * conversation's events, the employee's toggles, subscriptions and push journal) and this
 * turns it into check lists `{ id, label, ok, observed, fix, note }`.
 *
 * `ok`: true = this is not why; false = this is (a) cause, and `fix` is the help page's step
 * in words a hotel employee understands; null = it cannot be checked here (no conversation
 * chosen, nothing of this kind happened yet), `fix` then says how to check it if anything.
 */
import { type ConversationEvent, type EmployeeRole, type SupportDeclineReason, type SupportRequestOrigin, fold } from './conversation.js';
import type { ChatMode, LiveChatSettings } from './settings.js';

export type QuestionId = 'no_open_ticket' | 'close_ticket_missing' | 'alerts_not_arriving';
export type CheckId =
  | 'request_support_chat'
  | 'chat_mode_hybrid'
  | 'support_requested'
  | 'declined_request'
  | 'ticket_state'
  | 'ticket_owner'
  | 'push_switch'
  | 'push_configured'
  | 'personal_toggle'
  | 'push_subscription'
  | 'last_push_delivery'
  | 'alert_decision';

export interface Check {
  id: CheckId;
  /** What is checked, in words. */
  label: string;
  ok: boolean | null;
  /** The value seen (per check id: a boolean, the chat mode, a name, a count, or a small object). */
  observed: unknown;
  fix: string | null;
  /** Why this check looks at what it looks at, when that is not obvious. */
  note: string | null;
}

export interface Question {
  title: string;
  /** No check failed (checks that could not be made do not count). */
  ok: boolean;
  checks: Check[];
}

export type Diagnostics = Record<QuestionId, Question>;

export type PushStatus = 'delivered' | 'retrying' | 'failed' | 'subscription_gone';
export type AlertKindSeen = 'incoming_support_request' | 'assigned_chat_activity' | 'ticket_assigned' | 'escalation';

export interface DeliverySeen {
  status: PushStatus;
  httpStatus: number | null;
  error: string | null;
  at: string;
  /** The push service's origin (never the endpoint). */
  pushService: string;
}

export interface DiagnosticsSnapshot {
  /** Whom the checks are for; `role` null when unknown (another employee, known only from events). */
  employee: { id: string; name: string; role: EmployeeRole | null };
  settings: {
    requestSupportChat: boolean;
    chatMode: ChatMode;
    pushNotificationsEnabled: boolean;
    /** Every Live Chat settings change, oldest first: was a declined request made before or after a fix? */
    liveChatChanges: Array<LiveChatSettings & { at: string; changedBy: string }>;
  };
  /** The service has VAPID keys (the PushSender port's `available`). */
  pushConfigured: boolean;
  personal: { incomingSupportRequests: boolean; assignedChatActivity: boolean };
  /** Active browser subscriptions. */
  subscriptions: Array<{ pushService: string; createdAt: string }>;
  /** The employee's most recent push attempt (test pushes included), or null. */
  lastDelivery: (DeliverySeen & { test: boolean }) | null;
  /** Null when no conversation was chosen. */
  conversation: null | {
    id: string;
    /** Its stream, in order. */
    events: ConversationEvent[];
    /** Display names last seen per employee id, for events that carried only an id. */
    knownNames: Record<string, string>;
    /** The employee's newest alert decision about this conversation. */
    decision: null | {
      kind: AlertKindSeen;
      /** In-app reason (`toggle_off`, `not_owner`), else the push channel's. */
      reason: string;
      at: string;
      push: null | { decided: boolean; deliveries: DeliverySeen[] };
    };
  };
}

const PATH = {
  requestSupportChat: 'Settings → Live Chat → Request Support Chat',
  chatMode: 'Settings → Live Chat → Chat mode',
  pushSwitch: 'Settings → Customizations → Push Notifications',
  incoming: 'Personal Settings → Incoming Support Requests',
  activity: 'Personal Settings → Assigned Chat Activity',
};
const MODE_NAMES: Record<ChatMode, string> = { ai_only: '“AI only”', hybrid: '“AI + live chat”', off: '“Off”' };
const CHOOSE_CONVERSATION = 'Run the diagnostics from the conversation (conversationId) to check this.';
const REGISTER_BROWSER =
  'open the app in your browser, allow notifications when it asks and turn on push alerts there (that registers the browser); do this on every device you use.';
const VAPID_FIX =
  'Browser push is not set up on our service (it has no VAPID keys): ask your IT or operations team to configure them. Until then alerts only show inside the app.';
const PUSH_SWITCH_FIX = `Ask an admin to turn on ${PATH.pushSwitch}. Until then alerts only show inside the app.`;

export function diagnose(s: DiagnosticsSnapshot): Diagnostics {
  const facts = s.conversation ? conversationFacts(s.conversation.events, s.conversation.knownNames) : null;
  return {
    no_open_ticket: question('No Open ticket badge appears', noOpenTicketChecks(s, facts)),
    close_ticket_missing: question('Close Ticket is missing', closeTicketChecks(s, facts)),
    alerts_not_arriving: question('Alerts do not arrive', alertChecks(s, facts)),
  };
}

const question = (title: string, checks: Check[]): Question => ({ title, ok: checks.every((c) => c.ok !== false), checks });

const check = (id: CheckId, label: string, ok: boolean | null, observed: unknown, fix: string | null, note: string | null = null): Check => ({
  id,
  label,
  ok,
  observed,
  fix: ok === true ? null : fix,
  note,
});

// ---- what the conversation's events say ----------------------------------------------------

export interface SupportRequestSeen {
  at: string;
  outcome: 'ticket_opened' | 'declined';
  reasons: SupportDeclineReason[];
  /** The Live Chat settings a declined request was decided on. */
  settings: LiveChatSettings | null;
  origin: SupportRequestOrigin;
}

export interface ConversationFacts {
  guestName: string;
  ticket: null | {
    status: 'open' | 'assigned' | 'closed';
    ownerId: string | null;
    ownerName: string | null;
    openedAt: string;
    assignedAt: string | null;
    closedAt: string | null;
    closedBy: string | null;
  };
  requests: SupportRequestSeen[];
}

/** An employee as colleagues see them: the name, or the last name seen for the id, the id only when nothing better is known. */
const displayName = (id: string, name: string | null | undefined, known: Record<string, string>) =>
  name && name.trim() && name !== id ? name : (known[id] ?? id);

export function conversationFacts(events: readonly ConversationEvent[], knownNames: Record<string, string> = {}): ConversationFacts {
  const state = fold(events);
  const requests: SupportRequestSeen[] = [];
  let assignedAt: string | null = null;
  let closedAt: string | null = null;
  let closedBy: string | null = null;
  for (const e of events) {
    switch (e.type) {
      case 'SupportRequestDeclined':
        requests.push({ at: e.data.at, outcome: 'declined', reasons: e.data.reasons, settings: e.data.settings, origin: e.data.origin });
        break;
      case 'TicketOpened':
        requests.push({ at: e.data.at, outcome: 'ticket_opened', reasons: [], settings: null, origin: e.data.origin });
        assignedAt = closedAt = closedBy = null;
        break;
      case 'TicketTakenOver':
      case 'TicketReassigned':
        assignedAt = e.data.at;
        break;
      case 'TicketReleased':
        assignedAt = null;
        break;
      case 'TicketClosed':
        closedAt = e.data.at;
        closedBy = displayName(e.data.employeeId, e.data.closedBy?.name, knownNames);
        break;
      default:
        break;
    }
  }
  const t = state?.ticket ?? null;
  return {
    guestName: state?.guestName ?? '',
    ticket: t && {
      status: t.status,
      ownerId: t.status === 'assigned' ? t.ownerId : null,
      ownerName: t.status === 'assigned' && t.ownerId ? displayName(t.ownerId, t.ownerName, knownNames) : null,
      openedAt: t.openedAt,
      assignedAt: t.status === 'assigned' ? assignedAt : null,
      closedAt: t.status === 'closed' ? closedAt : null,
      closedBy: t.status === 'closed' ? closedBy : null,
    },
    requests,
  };
}

// ---- (a) No Open ticket badge appears ----------------------------------------------------

function noOpenTicketChecks(s: DiagnosticsSnapshot, facts: ConversationFacts | null): Check[] {
  const { requestSupportChat, chatMode } = s.settings;
  const checks = [
    check('request_support_chat', 'Request Support Chat is on', requestSupportChat, requestSupportChat,
      `Ask an admin to turn on ${PATH.requestSupportChat}.`),
    check('chat_mode_hybrid', 'The chat mode is “AI + live chat” (hybrid)', chatMode === 'hybrid', chatMode,
      `Ask an admin to set ${PATH.chatMode} to “AI + live chat”. ${chatMode === 'off' ? 'In “Off” nobody answers the guest and no ticket opens.' : 'In “AI only” AVA answers every message and never opens a ticket.'}`),
  ];
  if (facts === null) {
    return [
      ...checks,
      check('support_requested', 'The guest asked for a person', null, null, CHOOSE_CONVERSATION),
      check('declined_request', "The guest's last request opened a ticket", null, null, CHOOSE_CONVERSATION),
      check('ticket_state', 'The ticket is open, waiting to be taken over', null, null, CHOOSE_CONVERSATION),
    ];
  }
  return [...checks, supportRequested(facts), declinedRequest(s, facts), openTicketState(s, facts)];
}

function supportRequested(facts: ConversationFacts): Check {
  const count = facts.requests.length;
  return check('support_requested', 'The guest asked for a person', count > 0, count,
    `${facts.guestName || 'The guest'} has not asked for a person in this chat yet. A ticket opens when they do (for example “I would like to talk to a person”).`,
    count > 0 ? `Last asked at ${facts.requests[count - 1]!.at}.` : null);
}

const SETTING_REASONS: ReadonlySet<SupportDeclineReason> = new Set(['request_support_chat_off', 'chat_mode_not_hybrid']);

/** "Request Support Chat was off and the chat mode was “AI only”": which setting said no, as it was then. */
function whatDeclined(request: SupportRequestSeen): string {
  const parts: string[] = [];
  if (request.reasons.includes('request_support_chat_off')) parts.push('Request Support Chat was off');
  if (request.reasons.includes('chat_mode_not_hybrid')) {
    parts.push(`the chat mode was ${request.settings ? MODE_NAMES[request.settings.chatMode] : 'not “AI + live chat”'}`);
  }
  return parts.join(' and ');
}

function declinedRequest(s: DiagnosticsSnapshot, facts: ConversationFacts): Check {
  const label = "The guest's last request opened a ticket";
  const last = facts.requests.at(-1);
  if (!last) return check('declined_request', label, null, null, null, 'The guest has not asked for a person yet.');
  if (last.outcome === 'ticket_opened') return check('declined_request', label, true, { outcome: last.outcome, at: last.at }, null);
  const bySettings = last.reasons.some((r) => SETTING_REASONS.has(r));
  const observedBase = { outcome: last.outcome, at: last.at, reasons: last.reasons, settingsThen: last.settings, origin: last.origin };
  if (!bySettings) {
    // Declined only because a ticket was already active: that ticket is the one to look at.
    return check('declined_request', label, true, { ...observedBase, fixedAt: null, fixedBy: null }, null,
      'The last request came while a ticket was already active, so no second ticket opened.');
  }
  const fixed = settingsAllowedSince(s.settings.liveChatChanges, last.at);
  const allowedNow = s.settings.requestSupportChat && s.settings.chatMode === 'hybrid';
  const observed = { ...observedBase, fixedAt: allowedNow ? (fixed?.at ?? null) : null, fixedBy: allowedNow ? (fixed?.changedBy ?? null) : null };
  const asked = `The guest asked for a person at ${last.at}, but ${whatDeclined(last)}, so no ticket opened.`;
  if (!allowedNow) {
    return check('declined_request', label, false, observed,
      `${asked} Fix the settings above first; then the guest has to ask again: a declined request is not retried.`);
  }
  const when = fixed ? ` (at ${fixed.at}, by ${fixed.changedBy})` : '';
  return check('declined_request', label, false, observed,
    `${asked} The settings were fixed later${when}, but the request was made before that and is not retried: ask the guest to ask for a person again (for example “I would like to talk to a person”).`);
}

/** The change after `after` from which both Live Chat settings allowed tickets (and still do), if any. */
export function settingsAllowedSince(changes: DiagnosticsSnapshot['settings']['liveChatChanges'], after: string) {
  let since: (typeof changes)[number] | null = null;
  for (const c of changes) {
    const allows = c.requestSupportChat && c.chatMode === 'hybrid';
    if (!allows) since = null;
    else if (since === null && c.at >= after) since = c;
  }
  return since;
}

function openTicketState(s: DiagnosticsSnapshot, facts: ConversationFacts): Check {
  const label = 'The ticket is open, waiting to be taken over';
  const t = facts.ticket;
  if (t === null) {
    return check('ticket_state', label, false, 'none',
      'There is no ticket in this chat. One opens when the guest asks for a person while Request Support Chat is on and the chat mode is “AI + live chat” (see the checks above).');
  }
  if (t.status === 'open') return check('ticket_state', label, true, 'open', null, `Open since ${t.openedAt}.`);
  if (t.status === 'assigned') {
    const mine = t.ownerId === s.employee.id;
    return check('ticket_state', label, false, 'assigned',
      mine
        ? `You took this ticket over${t.assignedAt ? ` at ${t.assignedAt}` : ''}: it shows “Assigned to you” instead of “Open ticket”.`
        : `${t.ownerName} took this ticket over${t.assignedAt ? ` at ${t.assignedAt}` : ''}: it shows “Assigned” (“Assigned to you” for ${t.ownerName}) instead of “Open ticket”. An admin can release it back to the queue.`);
  }
  return check('ticket_state', label, false, 'closed',
    `The ticket was closed${t.closedAt ? ` at ${t.closedAt}` : ''}${t.closedBy ? ` by ${t.closedBy}` : ''}: a closed ticket has no badge. A new ticket opens when the guest asks for a person again.`);
}

// ---- (b) Close Ticket is missing -----------------------------------------------------------

function closeTicketChecks(s: DiagnosticsSnapshot, facts: ConversationFacts | null): Check[] {
  const stateLabel = 'The ticket is taken over and not closed';
  const ownerLabel = 'You own the ticket, or you are an admin';
  if (facts === null) {
    return [check('ticket_state', stateLabel, null, null, CHOOSE_CONVERSATION), check('ticket_owner', ownerLabel, null, null, CHOOSE_CONVERSATION)];
  }
  const admin = s.employee.role === 'admin';
  const t = facts.ticket;
  const noOwner = (why: string) => check('ticket_owner', ownerLabel, null, null, null, why);
  if (t === null) {
    return [check('ticket_state', stateLabel, false, 'none', 'There is no ticket in this chat, so there is nothing to close.'), noOwner('There is no ticket.')];
  }
  if (t.status === 'closed') {
    return [
      check('ticket_state', stateLabel, false, 'closed',
        `The ticket is already closed${t.closedAt ? ` (at ${t.closedAt}${t.closedBy ? ` by ${t.closedBy}` : ''})` : ''}: there is nothing to close. A new ticket opens when the guest asks for a person again.`),
      noOwner('The ticket is closed.'),
    ];
  }
  if (t.status === 'open') {
    return [
      check('ticket_state', stateLabel, admin, 'open',
        'Nobody has taken the ticket over yet: take it over (or reply to the guest) and Close Ticket appears.',
        admin ? 'Admins may close a ticket nobody has taken over.' : null),
      noOwner('Nobody has taken the ticket over yet.'),
    ];
  }
  const mine = t.ownerId === s.employee.id;
  return [
    check('ticket_state', stateLabel, true, 'assigned', null),
    check('ticket_owner', ownerLabel, mine || admin, t.ownerName,
      `The ticket is assigned to ${t.ownerName}, and you are not its owner and not an admin: only ${t.ownerName} or an admin can close it. Ask ${t.ownerName} to close it, or an admin to close it or reassign it to you.`,
      !mine && admin ? `${t.ownerName} owns it; admins may close any ticket.` : null),
  ];
}

// ---- (c) Alerts do not arrive --------------------------------------------------------------

type Toggle = 'incomingSupportRequests' | 'assignedChatActivity';
const TOGGLE_PATH: Record<Toggle, string> = { incomingSupportRequests: PATH.incoming, assignedChatActivity: PATH.activity };
const TOGGLE_OF_KIND: Partial<Record<AlertKindSeen, Toggle>> = {
  incoming_support_request: 'incomingSupportRequests',
  assigned_chat_activity: 'assignedChatActivity',
};

/** Which personal toggle decides this employee's next alert about the conversation, and why. */
function relevantToggles(s: DiagnosticsSnapshot, facts: ConversationFacts | null): { toggles: Toggle[]; note: string } {
  if (facts === null) {
    return {
      toggles: ['incomingSupportRequests', 'assignedChatActivity'],
      note: 'Incoming Support Requests alerts you about every new ticket; Assigned Chat Activity about new guest messages in tickets you own. Choose a conversation to see which one matters for it.',
    };
  }
  const t = facts.ticket;
  if (t?.status === 'assigned' && t.ownerId === s.employee.id) {
    return { toggles: ['assignedChatActivity'], note: 'You own this ticket: new guest messages alert you through Assigned Chat Activity.' };
  }
  if (t?.status === 'assigned') {
    return {
      toggles: ['incomingSupportRequests'],
      note: `${t.ownerName} owns this ticket: new guest messages alert only ${t.ownerName}. Incoming Support Requests alerts you when it opens or goes back to the queue.`,
    };
  }
  return { toggles: ['incomingSupportRequests'], note: 'A new (or released) ticket alerts through Incoming Support Requests.' };
}

function alertChecks(s: DiagnosticsSnapshot, facts: ConversationFacts | null): Check[] {
  const { toggles, note } = relevantToggles(s, facts);
  const off = toggles.filter((t) => !s.personal[t]);
  const count = s.subscriptions.length;
  const checks = [
    check('push_switch', 'Push Notifications are on for the property', s.settings.pushNotificationsEnabled, s.settings.pushNotificationsEnabled, PUSH_SWITCH_FIX),
    check('push_configured', 'Browser push is set up on the service', s.pushConfigured, s.pushConfigured, VAPID_FIX),
    check('personal_toggle', `Your alert toggle is on: ${toggles.map((t) => TOGGLE_PATH[t].split(' → ')[1]).join(' and ')}`, off.length === 0,
      { incomingSupportRequests: s.personal.incomingSupportRequests, assignedChatActivity: s.personal.assignedChatActivity, relevant: toggles },
      `Turn on ${off.map((t) => TOGGLE_PATH[t]).join(' and ')}, then save.`, note),
    check('push_subscription', 'A browser is registered for your push alerts', count > 0, count,
      `No browser is registered for your alerts: ${REGISTER_BROWSER}`,
      count > 0 ? `Push services: ${[...new Set(s.subscriptions.map((x) => x.pushService))].join(', ')}.` : null),
    lastDelivery(s),
  ];
  if (facts === null) return [...checks, check('alert_decision', 'Your last alert about this conversation', null, null, CHOOSE_CONVERSATION)];
  return [...checks, alertDecision(s, facts)];
}

function deliveryFix(d: DeliverySeen): string {
  const answer = `${d.httpStatus !== null ? `HTTP ${d.httpStatus}` : (d.error ?? 'no answer')} at ${d.at}`;
  switch (d.status) {
    case 'delivered':
      return '';
    case 'retrying':
      return `The push service has not accepted the push yet (${answer}); it is retried automatically. If this stays so, ask your IT team and give them this check.`;
    case 'subscription_gone':
      return `Your browser's registration has expired (the push service answered ${answer}) and was removed: ${REGISTER_BROWSER}`;
    case 'failed':
      if (d.httpStatus === 401 || d.httpStatus === 403) {
        return `The push service refused the push (${answer}): the browser's registration no longer matches our service. Turn push alerts off and on again in that browser to register it again.`;
      }
      return `The push failed (${answer}${d.error && d.httpStatus !== null ? `: ${d.error}` : ''}). Turn push alerts off and on again in the browser; if it keeps failing, ask your IT team and give them this check.`;
  }
}

function lastDelivery(s: DiagnosticsSnapshot): Check {
  const label = 'The last push to your browsers arrived';
  const d = s.lastDelivery;
  if (d === null) {
    return check('last_push_delivery', label, null, null,
      'No push has been sent to you yet. Send a test notification (Personal Settings → Send test notification) to check this browser.');
  }
  const observed = { status: d.status, httpStatus: d.httpStatus, error: d.error, at: d.at, pushService: d.pushService, test: d.test };
  return check('last_push_delivery', label, d.status === 'delivered', observed, deliveryFix(d), d.test ? 'The last push was a test notification.' : null);
}

function alertDecision(s: DiagnosticsSnapshot, facts: ConversationFacts): Check {
  const label = 'Your last alert about this conversation';
  const d = s.conversation!.decision;
  if (d === null) {
    if (facts.ticket === null) return check('alert_decision', label, null, null, null, 'A chat without a ticket raises no alert.');
    return check('alert_decision', label, false, null,
      'You were not considered for this chat\'s alerts: alerts go to employees who have saved their Personal Settings at least once. Open Personal Settings, switch on the alerts you want and save.');
  }
  const delivered = d.push?.deliveries.some((x) => x.status === 'delivered') ?? false;
  const observed = { kind: d.kind, reason: d.reason, at: d.at, deliveries: d.push?.deliveries.map((x) => x.status) ?? [] };
  const toggle = TOGGLE_OF_KIND[d.kind];
  switch (d.reason) {
    case 'toggle_off':
      return check('alert_decision', label, false, observed,
        `${toggle ? TOGGLE_PATH[toggle].split(' → ')[1] : 'Your alert toggle'} was off when this alert went out (at ${d.at}): turn it on in ${toggle ? TOGGLE_PATH[toggle] : 'Personal Settings'}; the next alerts will reach you.`);
    case 'not_owner':
      return check('alert_decision', label, false, observed,
        `${facts.ticket?.ownerName ?? 'Another colleague'} owns this ticket: new guest messages alert only the ticket's owner. Take over tickets you want to follow, or ask an admin to reassign it to you.`);
    case 'push_switch_off':
      return check('alert_decision', label, false, observed, `The alert showed in the app, but Push Notifications were off for the property at ${d.at}. ${PUSH_SWITCH_FIX}`);
    case 'push_unavailable':
      return check('alert_decision', label, false, observed, `The alert showed in the app, but not as a push (at ${d.at}). ${VAPID_FIX}`);
    case 'no_subscription':
      return check('alert_decision', label, false, observed,
        `The alert showed in the app, but no browser was registered for your push alerts at ${d.at}: ${REGISTER_BROWSER}`);
    default: {
      const sending = d.push !== null && (!d.push.decided || d.push.deliveries.length === 0);
      if (sending) return check('alert_decision', label, null, observed, null, 'The push for this alert is being sent.');
      if (delivered || d.push === null) return check('alert_decision', label, true, observed, null);
      const last = [...d.push.deliveries].sort((a, b) => (a.at < b.at ? -1 : 1)).at(-1);
      return check('alert_decision', label, false, observed, last ? deliveryFix(last) : `The push for this alert reached none of your browsers: ${REGISTER_BROWSER}`);
    }
  }
}

// ---- the support bundle: when did the problem start? --------------------------------------

export type ProblemKind = 'declined_request' | 'push_failed' | 'push_not_sent' | 'ticket_escalated';

export interface ProblemSignal {
  kind: ProblemKind;
  at: string;
  /** Log position of the event it stems from (for a push: the alert's event), as a decimal string. */
  position: string;
  description: string;
}

/**
 * The first sign of trouble, in log order: a declined support request, an escalated (unattended)
 * ticket, or an alert whose push was not sent or failed; else the conversation's start. A refused
 * take-over (409) appends nothing, so the log cannot show it: an escalation is its trace.
 */
export function problemStart(signals: readonly ProblemSignal[], started: { at: string; position: string }) {
  const first = [...signals].sort((a, b) => compareSignals(a, b))[0];
  return first ?? { kind: 'conversation_started' as const, at: started.at, position: started.position, description: 'No problem recorded: the conversation start.' };
}

export const compareSignals = (a: ProblemSignal, b: ProblemSignal) => {
  const pa = BigInt(a.position);
  const pb = BigInt(b.position);
  return pa !== pb ? (pa < pb ? -1 : 1) : a.at < b.at ? -1 : a.at > b.at ? 1 : 0;
};

/** The conversation's own signals: declined requests (with what declined them) and escalations. */
export function conversationSignals(events: ReadonlyArray<{ event: ConversationEvent; position: string }>): ProblemSignal[] {
  const out: ProblemSignal[] = [];
  for (const { event: e, position } of events) {
    if (e.type === 'SupportRequestDeclined') {
      const byTicket = e.data.reasons.includes('ticket_already_active') && !e.data.reasons.some((r) => SETTING_REASONS.has(r));
      if (byTicket) continue; // a request while a ticket was active is not a problem
      const request: SupportRequestSeen = { at: e.data.at, outcome: 'declined', reasons: e.data.reasons, settings: e.data.settings, origin: e.data.origin };
      out.push({ kind: 'declined_request', at: e.data.at, position, description: `Support request declined: ${whatDeclined(request)}.` });
    } else if (e.type === 'TicketEscalated') {
      out.push({
        kind: 'ticket_escalated',
        at: e.data.at,
        position,
        description:
          e.data.reason === 'open_unattended'
            ? `Nobody took the ticket over within ${e.data.escalateAfterMinutes} min.`
            : `The guest waited ${e.data.escalateAfterMinutes} min for an answer.`,
      });
    }
  }
  return out;
}

export interface AlertDecisionSeen {
  employeeId: string;
  kind: AlertKindSeen;
  reason: string;
  at: string;
  /** The alerting event's log position, as a decimal string. */
  position: string;
  push: null | { decided: boolean; deliveries: DeliverySeen[] };
}

const NOT_PUSHED: Record<string, string> = {
  push_switch_off: 'the property’s Push Notifications switch was off',
  push_unavailable: 'browser push is not set up on the service',
  no_subscription: 'no browser was registered',
};

const KIND_WORDS: Record<AlertKindSeen, string> = {
  incoming_support_request: 'new support request',
  assigned_chat_activity: 'new guest message',
  ticket_assigned: 'ticket assigned',
  escalation: 'unattended ticket',
};

/** Alerts that showed in the app but were not pushed, and pushes that failed. */
export function alertSignals(decisions: readonly AlertDecisionSeen[], names: Record<string, string> = {}): ProblemSignal[] {
  const out: ProblemSignal[] = [];
  for (const d of decisions) {
    const who = names[d.employeeId] ?? d.employeeId;
    if (NOT_PUSHED[d.reason]) {
      out.push({ kind: 'push_not_sent', at: d.at, position: d.position, description: `The ${KIND_WORDS[d.kind]} alert for ${who} was not pushed: ${NOT_PUSHED[d.reason]}.` });
    }
    for (const x of d.push?.deliveries ?? []) {
      if (x.status !== 'failed' && x.status !== 'subscription_gone') continue;
      const answer = x.httpStatus !== null ? `HTTP ${x.httpStatus}` : (x.error ?? 'no answer');
      out.push({ kind: 'push_failed', at: x.at, position: d.position, description: `The push of the ${KIND_WORDS[d.kind]} alert to ${who} at ${x.pushService} ${x.status === 'failed' ? 'failed' : 'found the browser registration gone'}: ${answer}.` });
    }
  }
  return out;
}

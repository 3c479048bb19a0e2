/**
 * The troubleshooting view (`GET /v1/diagnostics`) and the support bundle
 * (`GET /v1/ops/conversations/{id}/support-bundle`): this file reads, `domain/diagnostics.ts`
 * decides.
 *
 * What is read where:
 * - the conversation from its own stream (as the history route does): every support request
 *   with the settings it was decided on, every ticket move with who and when — the inbox
 *   document keeps only the last request, and not the settings that declined it;
 * - the Live Chat settings and the push switch from the property's settings stream: the same
 *   fold answers "as of now", "when were they fixed?" and, for the bundle, "as of then";
 * - everything about the employee from read models: toggles, subscriptions, alert decisions,
 *   the push attempts journal; display names from the employee-names read model.
 */
import { Inject, Injectable } from '@nestjs/common';
import type { ConversationEvent, EmployeeRole } from '../../domain/conversation.js';
import {
  type AlertDecisionSeen,
  type AlertKindSeen,
  type DeliverySeen,
  type DiagnosticsSnapshot,
  alertSignals,
  compareSignals,
  conversationFacts,
  conversationSignals,
  diagnose,
  problemStart,
} from '../../domain/diagnostics.js';
import {
  DEFAULT_ESCALATION_SETTINGS,
  DEFAULT_PROPERTY_SETTINGS,
  type PropertySettingsEvent,
  evolveEscalationSettings,
  evolvePropertySettings,
  propertySettingsStream,
} from '../../domain/settings.js';
import { findByIn } from '../processing/find-by-in.js';
import { PUSH_ATTEMPTS, type PushAttemptDoc } from '../processing/push-delivery.js';
import type { Clock } from '../ports/clock.js';
import type { EventStore, Position, StoredEvent } from '../ports/event-store.js';
import type { PushSender } from '../ports/push-sender.js';
import type { ReadModelStore } from '../ports/read-models.js';
import { CLOCK, EVENT_STORE, PUSH_SENDER, READ_MODELS } from '../ports/tokens.js';
import { EMPLOYEE_NAMES, type EmployeeNameDoc, employeeNameId } from '../projections/employee-names.projection.js';
import { ProjectionsService } from '../projections/projections.service.js';
import { AlertQueries } from './alert.queries.js';
import { HistoryQueries, historyEntry } from './history.queries.js';
import { PushSubscriptionQueries } from './push-subscription.queries.js';
import { SettingsQueries } from './settings.queries.js';

export interface DiagnosedEmployee {
  id: string;
  name: string;
  /** null: not known here (the owner in a support bundle is known only from the events). */
  role: EmployeeRole | null;
}

type AlertDecision = Awaited<ReturnType<AlertQueries['decisions']>>[number];

/** How many of a conversation's alert decisions the bundle reads, oldest first (the problem start is among the first). */
const BUNDLE_DECISIONS = 500;

@Injectable()
export class DiagnosticsQueries {
  constructor(
    @Inject(EVENT_STORE) private readonly events: EventStore,
    @Inject(READ_MODELS) private readonly store: ReadModelStore,
    @Inject(PUSH_SENDER) private readonly sender: PushSender,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly projections: ProjectionsService,
    private readonly history: HistoryQueries,
    private readonly settings: SettingsQueries,
    private readonly alerts: AlertQueries,
    private readonly subscriptions: PushSubscriptionQueries,
  ) {}

  /** The three questions' checks for `employee`, about one conversation of the property or none. Another property's id: 404. */
  async diagnostics(propertyId: string, employee: DiagnosedEmployee, conversationId: string | null) {
    const conversation = conversationId === null ? null : { id: conversationId, stream: await this.history.events(propertyId, conversationId) };
    const settingsStream = await this.settingsStream(propertyId);
    const names = await this.namesIn(propertyId, conversation?.stream ?? []);
    return this.diagnosticsOf(propertyId, employee, conversation, settingsStream, names);
  }

  /**
   * What the help page asks a stuck user to send, for an admin: who, when the problem started,
   * the diagnostics (the admin's, and the owner's when the ticket is assigned), the history
   * (the entries of `/history`) and the property settings as they were when the problem started.
   */
  async supportBundle(propertyId: string, admin: DiagnosedEmployee, conversationId: string) {
    const stream = await this.history.events(propertyId, conversationId);
    const settingsStream = await this.settingsStream(propertyId);
    const decisions = await this.alerts.decisions(propertyId, { conversationId }, BUNDLE_DECISIONS, 'oldest');
    const names = await this.namesIn(propertyId, stream, decisions.map((d) => d.employeeId));
    const facts = conversationFacts(stream.map(asConversationEvent), names);

    const signals = [
      ...conversationSignals(stream.map((e) => ({ event: asConversationEvent(e), position: e.position.toString() }))),
      ...alertSignals(decisions.map(decisionSeen), names),
    ].sort(compareSignals);
    const started = stream[0]!;
    const start = problemStart(signals, { at: started.data.at as string, position: started.position.toString() });

    const conversation = { id: conversationId, stream };
    const you = await this.diagnosticsOf(propertyId, admin, conversation, settingsStream, names);
    const ownerId = facts.ticket?.status === 'assigned' ? facts.ticket.ownerId : null;
    const owner =
      ownerId === null
        ? null
        : ownerId === admin.id
          ? you
          : await this.diagnosticsOf(propertyId, { id: ownerId, name: facts.ticket!.ownerName ?? ownerId, role: null }, conversation, settingsStream, names);

    return {
      conversationId,
      guestName: facts.guestName,
      startedAt: started.data.at as string,
      problemStartedAt: start.at,
      problemStart: start,
      signals,
      settingsAtProblemStart: { ...settingsAt(settingsStream, BigInt(start.position)), asOf: start.at },
      settingsNow: settingsAt(settingsStream, null),
      diagnostics: { you, owner },
      history: stream.map(historyEntry),
      generatedAt: this.clock.now().toISOString(),
    };
  }

  private async diagnosticsOf(
    propertyId: string,
    employee: DiagnosedEmployee,
    conversation: { id: string; stream: StoredEvent[] } | null,
    settingsStream: StoredEvent[],
    names: Record<string, string>,
  ) {
    const current = settingsAt(settingsStream, null);
    const [personal, subscriptions, lastAttempt, decision] = await Promise.all([
      this.settings.personal(propertyId, employee.id),
      this.subscriptions.list(propertyId, employee.id),
      this.store.find<PushAttemptDoc>(PUSH_ATTEMPTS, { propertyId, employeeId: employee.id }, { sort: { at: -1 }, limit: 1 }),
      conversation === null ? Promise.resolve([]) : this.alerts.decisions(propertyId, { employeeId: employee.id, conversationId: conversation.id }, 1),
    ]);
    const snapshot: DiagnosticsSnapshot = {
      employee,
      settings: {
        requestSupportChat: current.requestSupportChat,
        chatMode: current.chatMode,
        pushNotificationsEnabled: current.pushNotificationsEnabled,
        liveChatChanges: settingsStream.flatMap((e) =>
          e.type === 'LiveChatSettingsChanged'
            ? [{ at: e.data.at as string, changedBy: e.data.changedBy as string, requestSupportChat: e.data.requestSupportChat, chatMode: e.data.chatMode }]
            : [],
        ),
      },
      pushConfigured: this.sender.available,
      personal: { incomingSupportRequests: personal.incomingSupportRequests, assignedChatActivity: personal.assignedChatActivity },
      subscriptions: subscriptions.map((s) => ({ pushService: originOf(s.endpoint), createdAt: s.createdAt })),
      lastDelivery: lastAttempt[0] ? { ...deliverySeen(lastAttempt[0]), test: lastAttempt[0].conversationId === null } : null,
      conversation: conversation && {
        id: conversation.id,
        events: conversation.stream.map(asConversationEvent),
        knownNames: names,
        decision: decision[0] ? decisionSeen(decision[0]) : null,
      },
    };
    return { employee, conversationId: conversation?.id ?? null, questions: diagnose(snapshot) };
  }

  private settingsStream(propertyId: string): Promise<StoredEvent[]> {
    return this.events.readStream(propertySettingsStream(propertyId));
  }

  /** Display names (employee-names read model) of everyone a conversation's events name by id, and of `alsoIds`. */
  private async namesIn(propertyId: string, stream: StoredEvent[], alsoIds: string[] = []): Promise<Record<string, string>> {
    const ids = new Set<string>(alsoIds);
    for (const e of stream) {
      for (const key of ['employeeId', 'previousOwnerId']) if (typeof e.data[key] === 'string') ids.add(e.data[key] as string);
    }
    if (ids.size === 0) return {};
    const docs = await findByIn<EmployeeNameDoc>(
      this.store,
      this.projections.collection('employeeNames', EMPLOYEE_NAMES),
      '_id',
      [...ids].map((id) => employeeNameId(propertyId, id)),
    );
    return Object.fromEntries(docs.map((d) => [d.employeeId, d.name]));
  }
}

const asConversationEvent = (e: StoredEvent) => ({ type: e.type, data: e.data }) as ConversationEvent;

/** The property settings folded over its stream up to `position` (inclusive), or over all of it. */
export function settingsAt(stream: StoredEvent[], position: Position | null) {
  let settings = { ...DEFAULT_PROPERTY_SETTINGS };
  let escalation = { ...DEFAULT_ESCALATION_SETTINGS };
  let last: StoredEvent | null = null;
  for (const e of stream) {
    if (position !== null && e.position > position) break;
    const event = { type: e.type, data: e.data } as PropertySettingsEvent;
    settings = evolvePropertySettings(settings, event);
    escalation = evolveEscalationSettings(escalation, event);
    last = e;
  }
  return {
    ...settings,
    escalateAfterMinutes: escalation.escalateAfterMinutes,
    updatedAt: (last?.data.at as string | undefined) ?? null,
    updatedBy: (last?.data.changedBy as string | undefined) ?? null,
  };
}

function decisionSeen(d: AlertDecision): AlertDecisionSeen {
  return {
    employeeId: d.employeeId,
    kind: d.kind as AlertKindSeen,
    reason: d.reason,
    at: d.at,
    position: d.position,
    push: d.push && {
      decided: d.push.decided,
      deliveries: d.push.deliveries.map((x) => {
        const last = x.attempts.at(-1);
        return { status: x.status, httpStatus: last?.httpStatus ?? null, error: last?.error ?? null, at: x.at, pushService: x.pushService };
      }),
    },
  };
}

const deliverySeen = (a: PushAttemptDoc): DeliverySeen => ({
  status: a.status,
  httpStatus: a.httpStatus,
  error: a.error,
  at: a.at,
  pushService: a.pushService,
});

function originOf(endpoint: string): string {
  try {
    return new URL(endpoint).origin;
  } catch {
    return 'invalid';
  }
}

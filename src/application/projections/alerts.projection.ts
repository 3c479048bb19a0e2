/**
 * In-app alerts and, for every recipient considered, the decision with its reason (SPEC §2
 * "Alerts"), so "why did I not get an alert?" has an exact answer. The projection keeps its
 * own copy of the toggles and ticket owners it needs, taken from the log in order, so a
 * rebuild decides exactly as the original run did.
 */
import { uuidV5 } from '../../domain/name-based-id.js';
import type { ConversationEvent } from '../../domain/conversation.js';
import type { EmployeeEvent, EmployeeRole } from '../../domain/settings.js';
import type { StoredEvent } from '../ports/event-store.js';
import type { Doc } from '../ports/read-models.js';
import type { Projection, ProjectionContext } from './projection.js';

/** `ticket_assigned` (an admin gave you a ticket) is always raised: no toggle covers it, SPEC says the new owner is alerted. */
/**
 * `escalation` (an unattended ticket, `TicketEscalated`): the property's admins and the owner, always — no personal
 * toggle covers it (an unattended guest is what escalation exists for); the push channel still decides push.
 */
export type AlertKind = 'incoming_support_request' | 'assigned_chat_activity' | 'ticket_assigned' | 'escalation';
export type SuppressionReason = 'toggle_off' | 'not_owner';

export interface AlertDoc extends Doc {
  propertyId: string;
  employeeId: string;
  kind: AlertKind;
  conversationId: string;
  ticketId: string;
  /** The event that raised it: the push notifier finds a batch's alerts by these. */
  eventId: string;
  guestName: string;
  title: string;
  body: string;
  at: string;
  read: boolean;
  seq: number;
}

export interface AlertDecisionDoc extends Doc {
  propertyId: string;
  employeeId: string;
  kind: AlertKind;
  conversationId: string;
  ticketId: string;
  eventId: string;
  outcome: 'alerted' | 'suppressed';
  reason: 'alerted' | SuppressionReason;
  alertId: string | null;
  at: string;
  seq: number;
}

interface RecipientsDoc extends Doc {
  /** `role` as their last PersonalSettingsChanged recorded it (null: recorded before roles were). */
  employees: Array<{ id: string; incomingSupportRequests: boolean; assignedChatActivity: boolean; role?: EmployeeRole | null }>;
}
interface TicketDoc extends Doc {
  propertyId: string;
  guestName: string;
  ticketId: string | null;
  status: 'none' | 'open' | 'assigned' | 'closed';
  ownerId: string | null;
}

export const ALERTS = 'alerts';
export const ALERT_DECISIONS = 'alertDecisions';
const RECIPIENTS = 'alertRecipients';
const TICKETS = 'alertTickets';
const ALERT_NAMESPACE = '6f1f3c2a-7f55-4b8e-9a51-2d0e0d7b8a10';

export const alertId = (eventId: string, employeeId: string) => uuidV5(`${eventId}:${employeeId}`, ALERT_NAMESPACE);

/** The events this projection may raise alerts for; the push notifier reads the alerts of exactly these. */
export const ALERTING_EVENT_TYPES: ReadonlySet<string> = new Set([
  'TicketOpened',
  'TicketReleased',
  'TicketReassigned',
  'GuestMessagePosted',
  'TicketEscalated',
]);

export const alertsProjection: Projection = {
  name: 'alerts',
  version: 4,
  collections: [ALERTS, ALERT_DECISIONS, RECIPIENTS, TICKETS],
  indexes: [
    { collection: ALERTS, fields: { propertyId: 1, employeeId: 1, seq: -1 } },
    { collection: ALERTS, fields: { eventId: 1 } },
    { collection: ALERT_DECISIONS, fields: { propertyId: 1, conversationId: 1, seq: 1 } },
    { collection: ALERT_DECISIONS, fields: { propertyId: 1, employeeId: 1, seq: -1 } },
  ],
  handles: new Set([
    'PersonalSettingsChanged',
    'AlertMarkedRead',
    'ConversationStarted',
    'TicketOpened',
    'TicketTakenOver',
    'TicketReleased',
    'TicketReassigned',
    'TicketClosed',
    'GuestMessagePosted',
    'TicketEscalated',
  ]),
  async apply(stored: StoredEvent, ctx: ProjectionContext) {
    const propertyId = stored.metadata.propertyId;
    if (stored.type === 'PersonalSettingsChanged' || stored.type === 'AlertMarkedRead') {
      return applyEmployeeEvent({ type: stored.type, data: stored.data } as EmployeeEvent, propertyId, ctx);
    }
    const event = { type: stored.type, data: stored.data } as ConversationEvent;
    const conversationId = stored.streamId.slice('conversation-'.length);
    switch (event.type) {
      case 'ConversationStarted':
        await ctx.update<TicketDoc>(TICKETS, conversationId, () => ({
          _id: conversationId,
          propertyId,
          guestName: event.data.guestName,
          ticketId: null,
          status: 'none',
          ownerId: null,
        }));
        return;
      case 'TicketOpened': {
        const ticket = await ctx.update<TicketDoc>(TICKETS, conversationId, (doc) =>
          doc && { ...doc, ticketId: event.data.ticketId, status: 'open', ownerId: null },
        );
        const guest = ticket?.guestName ?? 'A guest';
        await alertIncomingSupportRequest(ctx, stored, conversationId, event.data.ticketId, guest, 'New support request', `${guest} asked to talk to a person`);
        return;
      }
      case 'TicketReleased': {
        // Back in the queue: activity alerts stop (no owner), incoming-request alerts go out again.
        const ticket = await ctx.update<TicketDoc>(TICKETS, conversationId, (doc) => doc && { ...doc, status: 'open', ownerId: null });
        const guest = ticket?.guestName ?? 'A guest';
        await alertIncomingSupportRequest(ctx, stored, conversationId, event.data.ticketId, guest, 'Support request waiting again', `${guest} is waiting for a colleague again`);
        return;
      }
      case 'TicketReassigned': {
        const ticket = await ctx.update<TicketDoc>(TICKETS, conversationId, (doc) =>
          doc && { ...doc, status: 'assigned', ownerId: event.data.employeeId },
        );
        const guest = ticket?.guestName ?? 'A guest';
        await decide(ctx, stored, {
          kind: 'ticket_assigned',
          employeeId: event.data.employeeId,
          conversationId,
          ticketId: event.data.ticketId,
          suppressedBecause: null,
          guestName: guest,
          title: 'A chat was assigned to you',
          body: `${event.data.reassignedBy.name} gave you the chat with ${guest}`,
        });
        return;
      }
      case 'TicketTakenOver':
        await ctx.update<TicketDoc>(TICKETS, conversationId, (doc) =>
          doc && { ...doc, status: 'assigned', ownerId: event.data.employeeId },
        );
        return;
      case 'TicketClosed':
        await ctx.update<TicketDoc>(TICKETS, conversationId, (doc) => doc && { ...doc, status: 'closed', ownerId: null });
        return;
      case 'GuestMessagePosted': {
        const ticket = await ctx.get<TicketDoc>(TICKETS, conversationId);
        if (!ticket || ticket.status !== 'assigned' || !ticket.ownerId || !ticket.ticketId) return;
        const recipients = await ctx.get<RecipientsDoc>(RECIPIENTS, propertyId);
        const owner = recipients?.employees.find((e) => e.id === ticket.ownerId);
        await decide(ctx, stored, {
          kind: 'assigned_chat_activity',
          employeeId: ticket.ownerId,
          conversationId,
          ticketId: ticket.ticketId,
          suppressedBecause: owner?.assignedChatActivity ? null : 'toggle_off',
          guestName: ticket.guestName,
          title: `New message from ${ticket.guestName}`,
          body: event.data.text.slice(0, 140),
        });
        // Others who want activity alerts are considered too, so their "why not?" is answered.
        for (const other of recipients?.employees ?? []) {
          if (other.id === ticket.ownerId || !other.assignedChatActivity) continue;
          await decide(ctx, stored, {
            kind: 'assigned_chat_activity',
            employeeId: other.id,
            conversationId,
            ticketId: ticket.ticketId,
            suppressedBecause: 'not_owner',
            guestName: ticket.guestName,
            title: '',
            body: '',
          });
        }
        return;
      }
      case 'TicketEscalated': {
        // Admins known from their saved settings (their role is recorded there), and the owner.
        const ticket = await ctx.get<TicketDoc>(TICKETS, conversationId);
        const recipients = await ctx.get<RecipientsDoc>(RECIPIENTS, propertyId);
        const admins = (recipients?.employees ?? []).filter((e) => e.role === 'admin').map((e) => e.id);
        const owner = ticket?.status === 'assigned' ? ticket.ownerId : null;
        const guest = ticket?.guestName ?? 'A guest';
        const minutes = event.data.escalateAfterMinutes;
        const [title, body] =
          event.data.reason === 'open_unattended'
            ? ['Unattended support request', `${guest} has waited ${minutes} min for a colleague to take over`]
            : ['Guest waiting for an answer', `${guest} has waited ${minutes} min for an answer`];
        for (const employeeId of new Set([...admins, ...(owner ? [owner] : [])])) {
          await decide(ctx, stored, {
            kind: 'escalation',
            employeeId,
            conversationId,
            ticketId: event.data.ticketId,
            suppressedBecause: null,
            guestName: guest,
            title,
            body,
          });
        }
        return;
      }
      default:
        return;
    }
  },
};

/** A ticket waits in the queue (opened, or released): every known employee is considered, the toggle decides. */
async function alertIncomingSupportRequest(
  ctx: ProjectionContext,
  stored: StoredEvent,
  conversationId: string,
  ticketId: string,
  guestName: string,
  title: string,
  body: string,
) {
  const recipients = await ctx.get<RecipientsDoc>(RECIPIENTS, stored.metadata.propertyId);
  for (const employee of recipients?.employees ?? []) {
    await decide(ctx, stored, {
      kind: 'incoming_support_request',
      employeeId: employee.id,
      conversationId,
      ticketId,
      suppressedBecause: employee.incomingSupportRequests ? null : 'toggle_off',
      guestName,
      title,
      body,
    });
  }
}

async function applyEmployeeEvent(event: EmployeeEvent, propertyId: string, ctx: ProjectionContext) {
  if (event.type === 'AlertMarkedRead') {
    await ctx.update<AlertDoc>(ALERTS, event.data.alertId, (doc) =>
      doc && doc.employeeId === event.data.employeeId ? { ...doc, read: true } : null,
    );
    return;
  }
  await ctx.update<RecipientsDoc>(RECIPIENTS, propertyId, (doc) => {
    const others = (doc?.employees ?? []).filter((e) => e.id !== event.data.employeeId);
    return {
      _id: propertyId,
      employees: [
        ...others,
        {
          id: event.data.employeeId,
          incomingSupportRequests: event.data.incomingSupportRequests,
          assignedChatActivity: event.data.assignedChatActivity,
          role: event.data.role ?? doc?.employees.find((e) => e.id === event.data.employeeId)?.role ?? null,
        },
      ],
    };
  });
}

async function decide(
  ctx: ProjectionContext,
  stored: StoredEvent,
  d: {
    kind: AlertKind;
    employeeId: string;
    conversationId: string;
    ticketId: string;
    suppressedBecause: SuppressionReason | null;
    guestName: string;
    title: string;
    body: string;
  },
) {
  const propertyId = stored.metadata.propertyId;
  const at = stored.data.at as string;
  const seq = Number(stored.position);
  const id = alertId(stored.id, d.employeeId);
  const alerted = d.suppressedBecause === null;
  await ctx.update<AlertDecisionDoc>(ALERT_DECISIONS, id, () => ({
    _id: id,
    propertyId,
    employeeId: d.employeeId,
    kind: d.kind,
    conversationId: d.conversationId,
    ticketId: d.ticketId,
    eventId: stored.id,
    outcome: alerted ? 'alerted' : 'suppressed',
    reason: d.suppressedBecause ?? 'alerted',
    alertId: alerted ? id : null,
    at,
    seq,
  }));
  if (!alerted) return;
  const alert = await ctx.update<AlertDoc>(ALERTS, id, () => ({
    _id: id,
    propertyId,
    employeeId: d.employeeId,
    kind: d.kind,
    conversationId: d.conversationId,
    ticketId: d.ticketId,
    eventId: stored.id,
    guestName: d.guestName,
    title: d.title,
    body: d.body,
    at,
    read: false,
    seq,
  }));
  if (alert) {
    ctx.publish({
      type: 'alert.created',
      propertyId,
      conversationId: d.conversationId,
      employeeId: d.employeeId,
      data: { alert: alertView(alert) },
    });
  }
}

export function alertView(a: AlertDoc) {
  return {
    id: a._id,
    kind: a.kind,
    conversationId: a.conversationId,
    ticketId: a.ticketId,
    guestName: a.guestName,
    title: a.title,
    body: a.body,
    at: a.at,
    read: a.read,
    position: a._pos.toString(),
  };
}

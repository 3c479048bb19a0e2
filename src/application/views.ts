/**
 * The JSON shapes clients see. Positions become decimal strings here; badge and actions are
 * computed for the viewer (SPEC §2 "Badges"), so SSE payloads and REST answers agree.
 */
import { type Viewer, actionsFor, badgeFor } from '../domain/badges.js';
import { type Conversation, aiMayAnswer } from '../domain/conversation.js';
import type { ChatMode } from '../domain/settings.js';
import { guestSafeName } from '../domain/guest-notices.js';
import type { ConversationDoc, messageView } from './projections/inbox.projection.js';

export type ConversationSnapshot = Omit<ConversationDoc, '_id' | '_pos' | 'status' | 'ownerId' | 'activitySeq' | 'guestNameKey'> & {
  id: string;
  /** Will AVA answer the guest's next message? The domain's rule, under the property's chat mode. */
  aiActive: boolean;
  position: string;
};

export function conversationSnapshot(doc: ConversationDoc, chatMode: ChatMode): ConversationSnapshot {
  const { _id, _pos, status: _status, ownerId: _ownerId, activitySeq: _seq, guestNameKey: _key, ...rest } = doc;
  return { id: _id, ...rest, aiActive: aiMayAnswer(doc, chatMode), position: _pos.toString() };
}

export function employeeConversationView(snapshot: ConversationSnapshot, viewer: Viewer) {
  return { ...snapshot, badge: badgeFor(snapshot.ticket, viewer.id), actions: actionsFor(snapshot.ticket, viewer) };
}

/**
 * All that employeeConversationView depends on of the viewer (badge and actions read only the
 * role and whether the viewer owns the ticket): viewers with the same key get the same view,
 * so the SSE fan-out renders a change once per key, not once per stream.
 */
export function employeeViewKey(snapshot: ConversationSnapshot, viewer: Viewer): string {
  return `${viewer.role}:${snapshot.ticket !== null && snapshot.ticket.ownerId === viewer.id ? 'owner' : 'other'}`;
}

/** Guests see whether a person has joined (by display name), never employee ids or support-request internals. */
export function guestConversationView(snapshot: ConversationSnapshot) {
  const t = snapshot.ticket;
  return {
    id: snapshot.id,
    guestName: snapshot.guestName,
    startedAt: snapshot.startedAt,
    support: t === null ? 'none' : t.status === 'assigned' ? 'agent_joined' : t.status === 'open' ? 'waiting_for_agent' : 'closed',
    agentName: t?.status === 'assigned' ? guestSafeName({ id: t.ownerId, name: t.ownerName }) : null,
    aiActive: snapshot.aiActive,
    lastActivityAt: snapshot.lastActivityAt,
    position: snapshot.position,
  };
}

/** A message as a guest sees it: who wrote it by name, never which employee id (REST and the guest stream alike). */
export function guestMessageView({ employeeId: _employeeId, ...message }: ReturnType<typeof messageView>) {
  return message;
}

/** A command's answer is built from the write model it just decided on: no projection lag. */
export function commandConversationView(c: Conversation, viewer: Viewer) {
  return {
    id: c.id,
    propertyId: c.propertyId,
    guestName: c.guestName,
    startedAt: c.startedAt,
    ticket: c.ticket,
    badge: badgeFor(c.ticket, viewer.id),
    actions: actionsFor(c.ticket, viewer),
  };
}

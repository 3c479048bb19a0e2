/**
 * The JSON shapes clients see. Positions become decimal strings here; badge and actions are
 * computed for the viewer (SPEC §2 "Badges"), so SSE payloads and REST answers agree.
 */
import { actionsFor, badgeFor } from '../domain/badges.js';
import type { Conversation } from '../domain/conversation.js';
import type { ConversationDoc } from './projections/inbox.projection.js';

export type ConversationSnapshot = Omit<ConversationDoc, '_id' | '_pos' | 'status' | 'ownerId' | 'activitySeq'> & {
  id: string;
  position: string;
};

export function conversationSnapshot(doc: ConversationDoc): ConversationSnapshot {
  const { _id, _pos, status: _status, ownerId: _ownerId, activitySeq: _seq, ...rest } = doc;
  return { id: _id, ...rest, position: _pos.toString() };
}

export function employeeConversationView(snapshot: ConversationSnapshot, viewerId: string) {
  return { ...snapshot, badge: badgeFor(snapshot.ticket, viewerId), actions: actionsFor(snapshot.ticket, viewerId) };
}

/** Guests see whether a person has joined, never employee ids or support-request internals. */
export function guestConversationView(snapshot: ConversationSnapshot) {
  const t = snapshot.ticket;
  return {
    id: snapshot.id,
    guestName: snapshot.guestName,
    startedAt: snapshot.startedAt,
    support: t === null ? 'none' : t.status === 'assigned' ? 'agent_joined' : t.status === 'open' ? 'waiting_for_agent' : 'closed',
    agentName: t?.status === 'assigned' ? t.ownerName : null,
    aiActive: snapshot.aiActive,
    lastActivityAt: snapshot.lastActivityAt,
    position: snapshot.position,
  };
}

/** A command's answer is built from the write model it just decided on: no projection lag. */
export function commandConversationView(c: Conversation, viewerId: string) {
  return {
    id: c.id,
    propertyId: c.propertyId,
    guestName: c.guestName,
    startedAt: c.startedAt,
    ticket: c.ticket,
    badge: badgeFor(c.ticket, viewerId),
    actions: actionsFor(c.ticket, viewerId),
  };
}

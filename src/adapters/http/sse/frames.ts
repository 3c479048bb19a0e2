/**
 * What a viewer may see of a change-feed entry, and the SSE frame it gets. Pure functions,
 * shared by the live fan-out (which renders once per viewer kind, see `viewKeyOf`) and the
 * replay of a resume (one stream at a time).
 */
import type { ChangeEntry } from '../../../application/ports/change-feed.js';
import { type ConversationSnapshot, employeeConversationView, employeeViewKey, guestConversationView, guestMessageView } from '../../../application/views.js';
import type { EmployeeRole } from '../../../domain/conversation.js';

export type Audience =
  /** The role too: an employee's actions (close, release, reassign) depend on it. */
  | { kind: 'employee'; propertyId: string; employeeId: string; role: EmployeeRole }
  | { kind: 'guest'; propertyId: string; conversationId: string };

export function visibleTo(entry: ChangeEntry, audience: Audience): boolean {
  if (entry.propertyId !== audience.propertyId) return false;
  if (audience.kind === 'guest') return entry.conversationId === audience.conversationId && entry.type !== 'alert.created';
  return entry.employeeId === undefined || entry.employeeId === audience.employeeId;
}

/**
 * Viewers of a visible entry with the same key get the same frame: every guest of the
 * conversation alike; employees alike except for a conversation's badge and actions, which
 * depend on their role and on whether they own the ticket (views.ts).
 */
export function viewKeyOf(entry: ChangeEntry, audience: Audience): string {
  if (audience.kind === 'guest') return 'guest';
  if (entry.type !== 'conversation.updated') return 'employee';
  return `employee:${employeeViewKey(entry.data.conversation as ConversationSnapshot, { id: audience.employeeId, role: audience.role })}`;
}

/** The SSE frame of `entry` for `audience`, or null when it gets nothing (not visible, or no view for guests). */
export function frameFor(entry: ChangeEntry, audience: Audience): string | null {
  const payload = visibleTo(entry, audience) ? viewFor(entry, audience) : null;
  return payload === null ? null : `id: ${entry.id}\nevent: ${entry.type}\ndata: ${JSON.stringify(payload)}\n\n`;
}

function viewFor(entry: ChangeEntry, audience: Audience): unknown {
  if (audience.kind === 'guest') return guestViewFor(entry);
  if (entry.type === 'conversation.updated') {
    const snapshot = entry.data.conversation as ConversationSnapshot;
    return { conversation: employeeConversationView(snapshot, { id: audience.employeeId, role: audience.role }) };
  }
  return entry.data;
}

/** Guests get only what has a guest view (no employee ids, SPEC §2); any other entry type is not sent. */
function guestViewFor(entry: ChangeEntry): unknown {
  switch (entry.type) {
    case 'conversation.updated':
      return { conversation: guestConversationView(entry.data.conversation as ConversationSnapshot) };
    case 'message.created':
      return { message: guestMessageView(entry.data.message as Parameters<typeof guestMessageView>[0]) };
    default:
      return null;
  }
}

/**
 * The Live Chat inbox: one document per conversation (ticket state, owner, guest, last
 * message, activity) and one per message. Viewer-specific badge/actions are computed at read
 * time from `ticket`, never stored.
 *
 * `aiActive` (will AVA answer the next guest message?) is not stored either: it depends on the
 * property's chat mode, and a mode change would otherwise have to rewrite every conversation of
 * the property. The projection keeps each property's chat mode (from LiveChatSettingsChanged, in
 * log order) in `chatModes`; views compute `aiMayAnswer(ticket, chatMode)` from the two — SSE
 * snapshots as of their event, REST reads as of the read.
 */
import type { ConversationEvent } from '../../domain/conversation.js';
import { type ChatMode, DEFAULT_PROPERTY_SETTINGS, type PropertySettingsEvent } from '../../domain/settings.js';
import type { GuestNoticeKind } from '../../domain/guest-notices.js';
import type { StoredEvent } from '../ports/event-store.js';
import type { Doc } from '../ports/read-models.js';
import type { Projection, ProjectionContext } from './projection.js';
import { conversationSnapshot } from '../views.js';

export type TicketStatusView = 'none' | 'open' | 'assigned' | 'closed';
/** `system`: what the guest is told about the ticket (GuestNotified), shown to employees too. */
export type MessageAuthor = 'guest' | 'ai' | 'employee' | 'system';

export interface ConversationDoc extends Doc {
  propertyId: string;
  guestName: string;
  /** `guestName` normalized for the exact, case-insensitive search by name (`guestNameKey()`); never shown. */
  guestNameKey: string;
  startedAt: string;
  status: TicketStatusView;
  ownerId: string | null;
  ticket: {
    id: string;
    status: 'open' | 'assigned' | 'closed';
    ownerId: string | null;
    ownerName: string | null;
    openedAt: string;
    assignedAt: string | null;
    closedAt: string | null;
  } | null;
  lastSupportRequest: { outcome: 'ticket_opened' | 'declined'; reasons: string[]; at: string } | null;
  lastMessage: { id: string; author: MessageAuthor; text: string; at: string } | null;
  messageCount: number;
  lastActivityAt: string;
  /** Global position of the last activity: unique, so it is the inbox sort key and cursor. */
  activitySeq: number;
}

export interface MessageDoc extends Doc {
  conversationId: string;
  propertyId: string;
  author: MessageAuthor;
  authorName: string;
  employeeId: string | null;
  kind: 'message' | 'closure_message' | 'notice';
  /** Which notice a `system` message is, so a frontend can word it its own way; null otherwise. */
  notice: GuestNoticeKind | null;
  text: string;
  at: string;
  seq: number;
}

/** The property's chat mode, as of the last LiveChatSettingsChanged applied; `_id` is the property id. */
export interface ChatModeDoc extends Doc {
  chatMode: ChatMode;
}

const CONVERSATIONS = 'conversations';
const MESSAGES = 'messages';
export const CHAT_MODES = 'chatModes';

/** The chat mode a conversation of the property is under (the default until an admin changed it). */
export const chatModeOf = (doc: ChatModeDoc | null): ChatMode => doc?.chatMode ?? DEFAULT_PROPERTY_SETTINGS.chatMode;

/** A guest name as the search compares it: Unicode-normalized, spaces trimmed and collapsed, lower case. */
export const guestNameKey = (name: string) => name.normalize('NFKC').trim().replace(/\s+/g, ' ').toLowerCase();

export const inboxProjection: Projection = {
  name: 'inbox',
  // v4: guestNameKey (search by guest name) and its index.
  version: 4,
  collections: [CONVERSATIONS, MESSAGES, CHAT_MODES],
  indexes: [
    { collection: CONVERSATIONS, fields: { propertyId: 1, activitySeq: -1 } },
    { collection: CONVERSATIONS, fields: { propertyId: 1, status: 1, activitySeq: -1 } },
    { collection: CONVERSATIONS, fields: { propertyId: 1, guestNameKey: 1, activitySeq: -1 } },
    { collection: MESSAGES, fields: { conversationId: 1, seq: 1 } },
  ],
  handles: new Set<ConversationEvent['type'] | PropertySettingsEvent['type']>([
    'LiveChatSettingsChanged',
    'ConversationStarted',
    'GuestMessagePosted',
    'AiReplyPosted',
    'SupportRequestDeclined',
    'TicketOpened',
    'TicketTakenOver',
    'EmployeeReplied',
    'TicketReleased',
    'TicketReassigned',
    'TicketClosed',
    'ClosureMessageSent',
    'AiRepliesResumed',
    'GuestNotified',
  ]),
  async apply(stored: StoredEvent, ctx: ProjectionContext) {
    if (stored.type === 'LiveChatSettingsChanged') {
      const { chatMode } = (stored.data as Extract<PropertySettingsEvent, { type: 'LiveChatSettingsChanged' }>['data']);
      await ctx.update<ChatModeDoc>(CHAT_MODES, stored.metadata.propertyId, () => ({ _id: stored.metadata.propertyId, chatMode }));
      return;
    }
    const event = { type: stored.type, data: stored.data } as ConversationEvent;
    const conversationId = stored.streamId.slice('conversation-'.length);
    const seq = Number(stored.position);

    const message = messageOf(event, stored.id);
    const updated = await ctx.update<ConversationDoc>(CONVERSATIONS, conversationId, (doc) => {
      if (event.type === 'ConversationStarted') {
        return {
          _id: conversationId,
          propertyId: event.data.propertyId,
          guestName: event.data.guestName,
          guestNameKey: guestNameKey(event.data.guestName),
          startedAt: event.data.at,
          status: 'none',
          ownerId: null,
          ticket: null,
          lastSupportRequest: null,
          lastMessage: null,
          messageCount: 0,
          lastActivityAt: event.data.at,
          activitySeq: seq,
        };
      }
      if (doc === null) return null;
      const next: ConversationDoc = { ...doc, lastActivityAt: event.data.at, activitySeq: seq };
      if (message) {
        next.lastMessage = { id: message.id, author: message.author, text: message.text, at: event.data.at };
        next.messageCount = doc.messageCount + 1;
      }
      switch (event.type) {
        case 'SupportRequestDeclined':
          next.lastSupportRequest = { outcome: 'declined', reasons: event.data.reasons, at: event.data.at };
          break;
        case 'TicketOpened':
          next.ticket = {
            id: event.data.ticketId,
            status: 'open',
            ownerId: null,
            ownerName: null,
            openedAt: event.data.at,
            assignedAt: null,
            closedAt: null,
          };
          next.lastSupportRequest = { outcome: 'ticket_opened', reasons: [], at: event.data.at };
          break;
        case 'TicketTakenOver':
        case 'TicketReassigned':
          if (next.ticket) {
            next.ticket = {
              ...next.ticket,
              status: 'assigned',
              ownerId: event.data.employeeId,
              ownerName: event.data.employeeName,
              assignedAt: event.data.at,
            };
          }
          break;
        case 'TicketReleased':
          if (next.ticket) next.ticket = { ...next.ticket, status: 'open', ownerId: null, ownerName: null, assignedAt: null };
          break;
        case 'TicketClosed':
          if (next.ticket) next.ticket = { ...next.ticket, status: 'closed', closedAt: event.data.at };
          break;
        default:
          break;
      }
      next.status = next.ticket?.status ?? 'none';
      next.ownerId = next.ticket?.status === 'assigned' ? next.ticket.ownerId : null;
      return next;
    });
    if (updated === null) return;

    if (message) {
      const written = await ctx.update<MessageDoc>(MESSAGES, message.id, () => ({
        _id: message.id,
        conversationId,
        propertyId: updated.propertyId,
        author: message.author,
        authorName: message.authorName ?? updated.guestName,
        employeeId: message.employeeId,
        kind: message.kind,
        notice: message.notice,
        text: message.text,
        at: event.data.at,
        seq,
      }));
      if (written) {
        ctx.publish({
          type: 'message.created',
          propertyId: updated.propertyId,
          conversationId,
          data: { message: messageView(written) },
        });
      }
    }
    ctx.publish({
      type: 'conversation.updated',
      propertyId: updated.propertyId,
      conversationId,
      data: { conversation: conversationSnapshot(updated, chatModeOf(await ctx.get<ChatModeDoc>(CHAT_MODES, updated.propertyId))) },
    });
  },
};

interface MessageFacts {
  id: string;
  author: MessageAuthor;
  authorName: string | null;
  employeeId: string | null;
  kind: MessageDoc['kind'];
  notice: MessageDoc['notice'];
  text: string;
}

/**
 * AVA is the author of AI replies and of closure messages (sent in AVA's name, SPEC §1). A
 * notice has no message id of its own: its event's id is unique and stable across rebuilds.
 */
function messageOf(event: ConversationEvent, eventId: string): MessageFacts | null {
  const plain = { employeeId: null, kind: 'message', notice: null } as const;
  switch (event.type) {
    case 'GuestMessagePosted':
      return { ...plain, id: event.data.messageId, author: 'guest', authorName: null, text: event.data.text };
    case 'AiReplyPosted':
      return { ...plain, id: event.data.messageId, author: 'ai', authorName: 'AVA', text: event.data.text };
    case 'EmployeeReplied':
      return {
        ...plain,
        id: event.data.messageId,
        author: 'employee',
        authorName: event.data.employeeName,
        employeeId: event.data.employeeId,
        text: event.data.text,
      };
    case 'ClosureMessageSent':
      return {
        ...plain,
        id: event.data.messageId,
        author: 'ai',
        authorName: 'AVA',
        employeeId: event.data.employeeId,
        kind: 'closure_message',
        text: event.data.text,
      };
    case 'GuestNotified':
      return { id: eventId, author: 'system', authorName: 'System', employeeId: null, kind: 'notice', notice: event.data.notice, text: event.data.text };
    default:
      return null;
  }
}

export function messageView(m: MessageDoc) {
  return {
    id: m._id,
    conversationId: m.conversationId,
    author: m.author,
    authorName: m.authorName,
    employeeId: m.employeeId,
    kind: m.kind,
    notice: m.notice,
    text: m.text,
    at: m.at,
    position: m._pos.toString(),
  };
}

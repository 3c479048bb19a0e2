/**
 * The Live Chat inbox: one document per conversation (ticket state, owner, guest, last
 * message, activity) and one per message. Viewer-specific badge/actions are computed at read
 * time from `ticket`, never stored.
 */
import type { ConversationEvent } from '../../domain/conversation.js';
import type { StoredEvent } from '../ports/event-store.js';
import type { Doc } from '../ports/read-models.js';
import type { Projection, ProjectionContext } from './projection.js';
import { conversationSnapshot } from '../views.js';

export type TicketStatusView = 'none' | 'open' | 'assigned' | 'closed';
export type MessageAuthor = 'guest' | 'ai' | 'employee';

export interface ConversationDoc extends Doc {
  propertyId: string;
  guestName: string;
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
  aiActive: boolean;
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
  kind: 'message' | 'closure_message';
  text: string;
  at: string;
  seq: number;
}

const CONVERSATIONS = 'conversations';
const MESSAGES = 'messages';

export const inboxProjection: Projection = {
  name: 'inbox',
  version: 1,
  collections: [CONVERSATIONS, MESSAGES],
  indexes: [
    { collection: CONVERSATIONS, fields: { propertyId: 1, activitySeq: -1 } },
    { collection: CONVERSATIONS, fields: { propertyId: 1, status: 1, activitySeq: -1 } },
    { collection: MESSAGES, fields: { conversationId: 1, seq: 1 } },
  ],
  handles: new Set<ConversationEvent['type']>([
    'ConversationStarted',
    'GuestMessagePosted',
    'AiReplyPosted',
    'SupportRequestDeclined',
    'TicketOpened',
    'TicketTakenOver',
    'EmployeeReplied',
    'TicketClosed',
    'ClosureMessageSent',
    'AiRepliesResumed',
  ]),
  async apply(stored: StoredEvent, ctx: ProjectionContext) {
    const event = { type: stored.type, data: stored.data } as ConversationEvent;
    const conversationId = stored.streamId.slice('conversation-'.length);
    const seq = Number(stored.position);

    const message = messageOf(event);
    const updated = await ctx.update<ConversationDoc>(CONVERSATIONS, conversationId, (doc) => {
      if (event.type === 'ConversationStarted') {
        return {
          _id: conversationId,
          propertyId: event.data.propertyId,
          guestName: event.data.guestName,
          startedAt: event.data.at,
          status: 'none',
          ownerId: null,
          ticket: null,
          aiActive: true,
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
          next.aiActive = false;
          break;
        case 'TicketTakenOver':
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
        case 'TicketClosed':
          if (next.ticket) next.ticket = { ...next.ticket, status: 'closed', closedAt: event.data.at };
          next.aiActive = false;
          break;
        case 'AiRepliesResumed':
          next.aiActive = true;
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
      data: { conversation: conversationSnapshot(updated) },
    });
  },
};

interface MessageFacts {
  id: string;
  author: MessageAuthor;
  authorName: string | null;
  employeeId: string | null;
  kind: MessageDoc['kind'];
  text: string;
}

/** AVA is the author of AI replies and of closure messages (sent in AVA's name, SPEC §1). */
function messageOf(event: ConversationEvent): MessageFacts | null {
  switch (event.type) {
    case 'GuestMessagePosted':
      return { id: event.data.messageId, author: 'guest', authorName: null, employeeId: null, kind: 'message', text: event.data.text };
    case 'AiReplyPosted':
      return { id: event.data.messageId, author: 'ai', authorName: 'AVA', employeeId: null, kind: 'message', text: event.data.text };
    case 'EmployeeReplied':
      return {
        id: event.data.messageId,
        author: 'employee',
        authorName: event.data.employeeName,
        employeeId: event.data.employeeId,
        kind: 'message',
        text: event.data.text,
      };
    case 'ClosureMessageSent':
      return {
        id: event.data.messageId,
        author: 'ai',
        authorName: 'AVA',
        employeeId: event.data.employeeId,
        kind: 'closure_message',
        text: event.data.text,
      };
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
    text: m.text,
    at: m.at,
    position: m._pos.toString(),
  };
}

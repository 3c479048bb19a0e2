/** Reads of the inbox read model, shaped for one viewing employee (badge + actions). */
import { Inject, Injectable } from '@nestjs/common';
import { DomainError } from '../../domain/errors.js';
import type { Filter, ReadModelStore } from '../ports/read-models.js';
import { READ_MODELS } from '../ports/tokens.js';
import {
  CHAT_MODES,
  type ChatModeDoc,
  type ConversationDoc,
  type MessageDoc,
  chatModeOf,
  guestNameKey,
  messageView,
} from '../projections/inbox.projection.js';
import { ProjectionsService } from '../projections/projections.service.js';
import type { Viewer } from '../../domain/badges.js';
import { conversationSnapshot, employeeConversationView, guestConversationView, guestMessageView } from '../views.js';

export type InboxFilter = 'open' | 'assigned' | 'mine' | 'closed' | 'all';

/**
 * Transcripts are paged from the newest end: a conversation view carries its latest
 * TRANSCRIPT_PAGE messages (oldest first) and `messagesNextBefore`, the cursor for
 * `GET …/messages?before=` (the position of the oldest message shown; null when the view holds
 * the whole transcript). One indexed range scan (conversationId, seq) per page, on SQLite and
 * MongoDB alike, however long the conversation.
 */
export const TRANSCRIPT_PAGE = 50;
export const MAX_TRANSCRIPT_PAGE = 200;

export interface MessagePage<M> {
  /** Oldest first. */
  items: M[];
  /** `before` for the next older page: the position of `items[0]`; null when there is nothing older. */
  nextBefore: string | null;
}

@Injectable()
export class InboxQueries {
  constructor(
    @Inject(READ_MODELS) private readonly store: ReadModelStore,
    private readonly projections: ProjectionsService,
  ) {}

  private get conversations() {
    return this.projections.collection('inbox', 'conversations');
  }
  private get messages() {
    return this.projections.collection('inbox', 'messages');
  }

  /** The property's chat mode as the inbox applied it: `aiActive` is computed from it at read time. */
  private async chatMode(propertyId: string) {
    return chatModeOf(await this.store.get<ChatModeDoc>(this.projections.collection('inbox', CHAT_MODES), propertyId));
  }

  /** `guestName`: only that guest's conversations (exact match, compared as `guestNameKey`). */
  async list(propertyId: string, viewer: Viewer, status: InboxFilter, limit: number, cursor: number | null, guestName?: string) {
    const filter: Filter = { propertyId };
    if (guestName !== undefined) filter.guestNameKey = guestNameKey(guestName);
    if (status === 'mine') Object.assign(filter, { status: 'assigned', ownerId: viewer.id });
    else if (status !== 'all') filter.status = status;
    if (cursor !== null) filter.activitySeq = { $lt: cursor };
    const docs = await this.store.find<ConversationDoc>(this.conversations, filter, { sort: { activitySeq: -1 }, limit: limit + 1 });
    const page = docs.slice(0, limit);
    const chatMode = await this.chatMode(propertyId);
    return {
      items: page.map((d) => employeeConversationView(conversationSnapshot(d, chatMode), viewer)),
      nextCursor: docs.length > limit ? String(page[page.length - 1]!.activitySeq) : null,
    };
  }

  /** Another property's conversation is a 404, exactly like a missing one. */
  async conversationDoc(propertyId: string, conversationId: string): Promise<ConversationDoc> {
    const doc = await this.store.get<ConversationDoc>(this.conversations, conversationId);
    if (!doc || doc.propertyId !== propertyId) throw new DomainError('not_found', 'conversation_not_found', 'Conversation not found');
    return doc;
  }

  /** Up to `limit` messages before position `before` (null: the latest), oldest first. */
  private async messagePage(conversationId: string, before: bigint | null, limit: number): Promise<MessagePage<ReturnType<typeof messageView>>> {
    const filter: Filter = { conversationId };
    if (before !== null) filter.seq = { $lt: Number(before) };
    const docs = await this.store.find<MessageDoc>(this.messages, filter, { sort: { seq: -1 }, limit: limit + 1 });
    const items = docs.slice(0, limit).reverse().map(messageView);
    return { items, nextBefore: docs.length > limit ? items[0]!.position : null };
  }

  /** A page of the transcript for an employee of the conversation's property (404 otherwise). */
  async messagesForEmployee(propertyId: string, conversationId: string, before: bigint | null, limit = TRANSCRIPT_PAGE) {
    await this.conversationDoc(propertyId, conversationId);
    return this.messagePage(conversationId, before, limit);
  }

  /** The same page as a guest sees it: no employee ids. */
  async messagesForGuest(propertyId: string, conversationId: string, before: bigint | null, limit = TRANSCRIPT_PAGE) {
    await this.conversationDoc(propertyId, conversationId);
    const page = await this.messagePage(conversationId, before, limit);
    return { ...page, items: page.items.map(guestMessageView) };
  }

  async forEmployee(propertyId: string, viewer: Viewer, conversationId: string) {
    const doc = await this.conversationDoc(propertyId, conversationId);
    const snapshot = conversationSnapshot(doc, await this.chatMode(propertyId));
    const page = await this.messagePage(conversationId, null, TRANSCRIPT_PAGE);
    return { ...employeeConversationView(snapshot, viewer), messages: page.items, messagesNextBefore: page.nextBefore };
  }

  async forGuest(propertyId: string, conversationId: string) {
    const summary = await this.guestSummary(propertyId, conversationId);
    const page = await this.messagePage(conversationId, null, TRANSCRIPT_PAGE);
    return { ...summary, messages: page.items.map(guestMessageView), messagesNextBefore: page.nextBefore };
  }

  /** The guest view without the messages (a guest command's answer). */
  async guestSummary(propertyId: string, conversationId: string) {
    const doc = await this.conversationDoc(propertyId, conversationId);
    return guestConversationView(conversationSnapshot(doc, await this.chatMode(propertyId)));
  }
}

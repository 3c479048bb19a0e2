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
const MESSAGE_LIMIT = 500;

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

  async messagesOf(conversationId: string) {
    const docs = await this.store.find<MessageDoc>(this.messages, { conversationId }, { sort: { seq: 1 }, limit: MESSAGE_LIMIT });
    return docs.map(messageView);
  }

  async forEmployee(propertyId: string, viewer: Viewer, conversationId: string) {
    const doc = await this.conversationDoc(propertyId, conversationId);
    const snapshot = conversationSnapshot(doc, await this.chatMode(propertyId));
    return { ...employeeConversationView(snapshot, viewer), messages: await this.messagesOf(conversationId) };
  }

  async forGuest(propertyId: string, conversationId: string) {
    return { ...(await this.guestSummary(propertyId, conversationId)), messages: (await this.messagesOf(conversationId)).map(guestMessageView) };
  }

  /** The guest view without the messages (a guest command's answer). */
  async guestSummary(propertyId: string, conversationId: string) {
    const doc = await this.conversationDoc(propertyId, conversationId);
    return guestConversationView(conversationSnapshot(doc, await this.chatMode(propertyId)));
  }
}

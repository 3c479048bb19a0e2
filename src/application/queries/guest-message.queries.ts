/**
 * What a guest's message led to: the answer of POST /v1/guest/conversations/{id}/messages.
 *
 * AVA answers in a worker after the message is appended (maybe in another process, maybe
 * through a slow external AI), so "the conversation after the message" is decided here:
 * - nobody answers automatically (a ticket is open or assigned, or the chat mode is `off`):
 *   `not_answering`, at once;
 * - otherwise wait, at most `waitMs`, until the conversation's stream shows what AVA did with
 *   the message — her reply (`replied`) or a ticket she opened from it (`ticket_opened`) —
 *   then serve the guest view at that position (read-your-writes);
 * - not within the bound: `pending`, and the view at the message; her answer follows on the
 *   guest stream. Honest rather than guessed: no outcome is predicted before it is in the log.
 *
 * AVA's outcome is read from the stream (the write side), where it appears first; the view
 * from the read models once they have applied it.
 */
import { Inject, Injectable } from '@nestjs/common';
import { type Conversation, aiMayAnswer, conversationStream } from '../../domain/conversation.js';
import { DomainError } from '../../domain/errors.js';
import { aiSupportRequestId } from '../commands/answer-guest-message.js';
import { readPropertySettings } from '../commands/settings-reader.js';
import type { EventStore, Position, Revision } from '../ports/event-store.js';
import { EVENT_STORE } from '../ports/tokens.js';
import { ProjectionsService } from '../projections/projections.service.js';
import { InboxQueries } from './inbox.queries.js';

export type AvaOutcome = 'replied' | 'ticket_opened' | 'pending' | 'not_answering';

/** How long a guest's POST waits for AVA: long enough for the built-in AVA, short enough for a guest. */
export const AVA_WAIT_MS = 1000;

@Injectable()
export class GuestMessageQueries {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly projections: ProjectionsService,
    private readonly inbox: InboxQueries,
  ) {}

  /** `posted`: the conversation as the message's decision left it, and the message's position. */
  async afterMessage(
    propertyId: string,
    messageId: string,
    posted: { conversation: Conversation; events: readonly unknown[]; position: Position | null; revision: Revision | null },
    waitMs = AVA_WAIT_MS,
  ) {
    const conversationId = posted.conversation.id;
    let ava: AvaOutcome = 'not_answering';
    let position = posted.position;
    const { chatMode } = await readPropertySettings(this.store, propertyId);
    if (aiMayAnswer(posted.conversation, chatMode) && posted.conversation.awaitingAi.has(messageId)) {
      // The message's command began at this revision: only what follows it is read (a hot conversation has thousands of events).
      const from = posted.revision === null ? 0n : posted.revision - BigInt(Math.max(posted.events.length - 1, 0));
      const seen = await this.avaOutcome(conversationId, messageId, from, waitMs);
      ava = seen.outcome;
      position = seen.position ?? position;
    }
    await this.projections.waitFor(position);
    return { ava, ticketOpened: ava === 'ticket_opened', conversation: await this.guestView(propertyId, conversationId) };
  }

  private async avaOutcome(
    conversationId: string,
    messageId: string,
    fromRevision: Revision,
    waitMs: number,
  ): Promise<{ outcome: AvaOutcome; position: Position | null }> {
    const deadline = Date.now() + waitMs;
    for (let pause = 5; ; pause = Math.min(pause * 2, 50)) {
      const events = await this.store.readStream(conversationStream(conversationId), { fromRevision });
      const at = events.findIndex((e) => e.type === 'GuestMessagePosted' && e.data.messageId === messageId);
      for (const e of at < 0 ? [] : events.slice(at + 1)) {
        // The view is read at the newest event, so what was appended with AVA's outcome shows too.
        const position = events[events.length - 1]!.position;
        if (e.type === 'AiReplyPosted' && e.data.inReplyTo === messageId) return { outcome: 'replied', position };
        // Any ticket ends AVA's turn; only one from her support request was opened from this message.
        if (e.type === 'TicketOpened') {
          return { outcome: e.metadata.commandId === aiSupportRequestId(messageId) ? 'ticket_opened' : 'not_answering', position };
        }
      }
      const left = deadline - Date.now();
      if (left <= 0) return { outcome: 'pending', position: null };
      await new Promise((resolve) => setTimeout(resolve, Math.min(pause, left)));
    }
  }

  /** The guest view; null only if the read models have not even applied the conversation's start. */
  private async guestView(propertyId: string, conversationId: string) {
    try {
      return await this.inbox.guestSummary(propertyId, conversationId);
    } catch (error) {
      if (error instanceof DomainError && error.kind === 'not_found') return null;
      throw error;
    }
  }
}

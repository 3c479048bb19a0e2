/**
 * Turns guest messages into AVA's answers. A checkpointed consumer of the log (not the
 * in-memory EventBus, which swallows errors): a crash only causes redelivery, and the
 * command ids derived from the guest message make a redelivered answer a no-op.
 * A new reactor starts at the end of the log: it never answers history.
 */
import { Inject, Injectable, Logger } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { AnswerGuestMessage } from '../commands/answer-guest-message.js';
import type { EventStore, StoredEvent } from '../ports/event-store.js';
import type { ReadModelStore } from '../ports/read-models.js';
import { EVENT_STORE, READ_MODELS } from '../ports/tokens.js';

const CHECKPOINT = 'ai-responder@1';

@Injectable()
export class AiResponderReactor {
  private readonly logger = new Logger('AiResponderReactor');
  private abort = new AbortController();
  private running: Promise<void> | null = null;

  constructor(
    @Inject(EVENT_STORE) private readonly events: EventStore,
    @Inject(READ_MODELS) private readonly checkpoints: ReadModelStore,
    private readonly commands: CommandBus,
  ) {}

  async start(): Promise<void> {
    let after = await this.checkpoints.checkpoint(CHECKPOINT);
    if (after === null) {
      after = await this.events.headPosition();
      if (after !== null) await this.checkpoints.commit(CHECKPOINT, [], after);
    }
    this.abort = new AbortController();
    this.running = this.events.subscribeToAll(after, (batch) => this.handle(batch), this.abort.signal);
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
  }

  private async handle(batch: StoredEvent[]): Promise<void> {
    for (const event of batch) {
      if (event.type !== 'GuestMessagePosted') continue;
      try {
        await this.commands.execute(
          new AnswerGuestMessage(
            event.streamId.slice('conversation-'.length),
            event.metadata.propertyId,
            event.data.messageId,
            event.data.text,
            event.data.at,
          ),
        );
      } catch (error) {
        // A rule violation here (e.g. conversation gone) must not stall every later answer.
        this.logger.warn(`could not answer guest message ${event.id}: ${String(error)}`);
      }
    }
    await this.checkpoints.commit(CHECKPOINT, [], batch[batch.length - 1]!.position);
  }
}

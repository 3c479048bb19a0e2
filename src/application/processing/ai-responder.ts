/**
 * Turns guest messages into AVA's answers: a log processor (not the in-memory EventBus,
 * which swallows errors). A crash only causes redelivery, and the command ids derived from
 * the guest message make a redelivered answer a no-op. It starts at the end of the log: it
 * never answers history.
 *
 * An answer that could not be written for a passing reason (the store unavailable: disk full,
 * read-only, unreachable; or a conflict that outlasted its retries) fails the batch instead
 * of being skipped: the subscription retries it with backoff from the last checkpoint (also
 * after a restart: the checkpoint never passed it), answers already given are no-ops, so every
 * answerable guest message gets exactly one answer once the store is back. Only a rule
 * violation or a broken responder skips a message.
 */
import { Inject, Injectable, Logger } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { AnswerGuestMessage } from '../commands/answer-guest-message.js';
import { type StoredEvent, WrongExpectedVersionError } from '../ports/event-store.js';
import { isStorageUnavailable } from '../ports/storage-unavailable.js';
import type { LogProcessor } from './log-consumer.js';

export const AI_RESPONDER_CHECKPOINT = 'ai-responder@1';

@Injectable()
export class AiResponder implements LogProcessor {
  readonly checkpoint = AI_RESPONDER_CHECKPOINT;
  readonly startFrom = 'end' as const;
  private readonly logger = new Logger('AiResponder');

  constructor(private readonly commands: CommandBus) {}

  async handle(batch: StoredEvent[]): Promise<void> {
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
        if (isStorageUnavailable(error) || error instanceof WrongExpectedVersionError) {
          this.logger.warn(`will retry guest message ${event.id}: ${String(error)}`);
          throw error;
        }
        // A rule violation here (e.g. conversation gone) must not stall every later answer.
        this.logger.warn(`could not answer guest message ${event.id}: ${String(error)}`);
      }
    }
  }
}

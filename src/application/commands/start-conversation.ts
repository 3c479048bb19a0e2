import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { startConversation } from '../../domain/conversation.js';
import { unknownProperty } from '../../domain/property.js';
import type { EventStore } from '../ports/event-store.js';
import { EVENT_STORE } from '../ports/tokens.js';
import { KnownProperties } from '../queries/known-properties.js';
import { type ConversationCommandResult, decideOnConversation } from './conversation-decision.js';
import { derivedId } from './run-decision.js';

export class StartConversation extends Command<ConversationCommandResult> {
  constructor(
    readonly propertyId: string,
    readonly guestName: string,
    readonly commandId: string,
    readonly at: string,
  ) {
    super();
  }
}

@CommandHandler(StartConversation)
export class StartConversationHandler implements ICommandHandler<StartConversation> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly known: KnownProperties,
  ) {}

  async execute(cmd: StartConversation) {
    // Only for a known property (domain/property.ts): an unknown one is a 404 and writes nothing.
    if (!(await this.known.isKnown(cmd.propertyId))) throw unknownProperty(cmd.propertyId);
    // Derived from the command id, so a retried start (same Idempotency-Key) finds its conversation again.
    const conversationId = derivedId(cmd.commandId, 'conversation');
    return decideOnConversation(
      this.store,
      conversationId,
      { propertyId: cmd.propertyId, commandId: cmd.commandId, actor: { kind: 'guest', id: conversationId } },
      (state) => startConversation(state, { conversationId, propertyId: cmd.propertyId, guestName: cmd.guestName, at: cmd.at }),
    );
  }
}

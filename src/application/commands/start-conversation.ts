import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { startConversation } from '../../domain/conversation.js';
import type { EventStore } from '../ports/event-store.js';
import { EVENT_STORE } from '../ports/tokens.js';
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
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  execute(cmd: StartConversation) {
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

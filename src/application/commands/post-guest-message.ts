import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { postGuestMessage } from '../../domain/conversation.js';
import type { EventStore } from '../ports/event-store.js';
import { CONFIG, EVENT_STORE } from '../ports/tokens.js';
import type { Config } from '../../config.js';
import { type ConversationCommandResult, decideOnConversation } from './conversation-decision.js';
import { derivedId } from './run-decision.js';

/** The AI's answer follows asynchronously (AiResponderReactor), so a slow AI never blocks the guest. */
export class PostGuestMessage extends Command<ConversationCommandResult> {
  constructor(
    readonly conversationId: string,
    readonly propertyId: string,
    readonly text: string,
    readonly commandId: string,
    readonly at: string,
  ) {
    super();
  }
}

@CommandHandler(PostGuestMessage)
export class PostGuestMessageHandler implements ICommandHandler<PostGuestMessage> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  execute(cmd: PostGuestMessage) {
    return decideOnConversation(
      this.store,
      cmd.conversationId,
      { propertyId: cmd.propertyId, commandId: cmd.commandId, actor: { kind: 'guest', id: cmd.conversationId } },
      (state) =>
        postGuestMessage(state, {
          messageId: derivedId(cmd.commandId, 'message'),
          text: cmd.text,
          at: cmd.at,
          maxGuestMessages: this.config.maxGuestMessagesPerConversation,
          maxTextLength: this.config.messageTextMaxLength,
        }),
    );
  }
}

import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { type Employee, reply } from '../../domain/conversation.js';
import type { EventStore } from '../ports/event-store.js';
import type { Config } from '../../config.js';
import { CONFIG, EVENT_STORE } from '../ports/tokens.js';
import { type ConversationCommandResult, byEmployee, decideOnConversation } from './conversation-decision.js';
import { derivedId } from './run-decision.js';

export class Reply extends Command<ConversationCommandResult> {
  constructor(
    readonly conversationId: string,
    readonly propertyId: string,
    readonly employee: Employee,
    readonly text: string,
    readonly commandId: string,
    readonly at: string,
  ) {
    super();
  }
}

@CommandHandler(Reply)
export class ReplyHandler implements ICommandHandler<Reply> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  execute(cmd: Reply) {
    const maxTextLength = this.config.messageTextMaxLength;
    return decideOnConversation(this.store, cmd.conversationId, byEmployee(cmd), (state) =>
      reply(state, { employee: cmd.employee, messageId: derivedId(cmd.commandId, 'message'), text: cmd.text, at: cmd.at, maxTextLength }),
    );
  }
}

import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { type Employee, takeOver } from '../../domain/conversation.js';
import type { EventStore } from '../ports/event-store.js';
import { EVENT_STORE } from '../ports/tokens.js';
import { type ConversationCommandResult, byEmployee, decideOnConversation } from './conversation-decision.js';

export class TakeOver extends Command<ConversationCommandResult> {
  constructor(
    readonly conversationId: string,
    readonly propertyId: string,
    readonly employee: Employee,
    readonly commandId: string,
    readonly at: string,
  ) {
    super();
  }
}

@CommandHandler(TakeOver)
export class TakeOverHandler implements ICommandHandler<TakeOver> {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  execute(cmd: TakeOver) {
    return decideOnConversation(this.store, cmd.conversationId, byEmployee(cmd), (state) =>
      takeOver(state, { employee: cmd.employee, at: cmd.at }),
    );
  }
}

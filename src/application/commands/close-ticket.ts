import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { type Actor, close } from '../../domain/conversation.js';
import type { EventStore } from '../ports/event-store.js';
import { EVENT_STORE } from '../ports/tokens.js';
import { type ConversationCommandResult, byEmployee, decideOnConversation } from './conversation-decision.js';
import { derivedId } from './run-decision.js';
import { readPersonalSettings, readPropertySettings } from './settings-reader.js';

export class CloseTicket extends Command<ConversationCommandResult> {
  constructor(
    readonly conversationId: string,
    readonly propertyId: string,
    /** The owner, or an admin: the closing employee's closure message is the one sent. */
    readonly employee: Actor,
    readonly commandId: string,
    readonly at: string,
  ) {
    super();
  }
}

@CommandHandler(CloseTicket)
export class CloseTicketHandler implements ICommandHandler<CloseTicket> {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async execute(cmd: CloseTicket) {
    const [property, personal] = await Promise.all([
      readPropertySettings(this.store, cmd.propertyId),
      readPersonalSettings(this.store, cmd.propertyId, cmd.employee.id),
    ]);
    return decideOnConversation(
      this.store,
      cmd.conversationId,
      byEmployee(cmd),
      (state) =>
        close(state, {
          employee: cmd.employee,
          closureMessage: personal.closureMessage,
          closureMessageId: derivedId(cmd.commandId, 'closure-message'),
          chatMode: property.chatMode,
          at: cmd.at,
        }),
    );
  }
}

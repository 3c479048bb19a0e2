import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { type SupportRequestOrigin, requestSupport } from '../../domain/conversation.js';
import type { EventMetadata, EventStore } from '../ports/event-store.js';
import { EVENT_STORE } from '../ports/tokens.js';
import { type ConversationCommandResult, decideOnConversation } from './conversation-decision.js';
import { derivedId } from './run-decision.js';
import { readPropertySettings } from './settings-reader.js';

export class RequestSupport extends Command<ConversationCommandResult> {
  constructor(
    readonly conversationId: string,
    readonly propertyId: string,
    readonly origin: SupportRequestOrigin,
    readonly commandId: string,
    readonly at: string,
  ) {
    super();
  }
}

@CommandHandler(RequestSupport)
export class RequestSupportHandler implements ICommandHandler<RequestSupport> {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async execute(cmd: RequestSupport) {
    const settings = await readPropertySettings(this.store, cmd.propertyId);
    const actor: EventMetadata['actor'] =
      cmd.origin === 'guest' ? { kind: 'guest', id: cmd.conversationId } : { kind: 'system', id: 'ava' };
    return decideOnConversation(this.store, cmd.conversationId, { propertyId: cmd.propertyId, commandId: cmd.commandId, actor }, (state) =>
      requestSupport(state, { ticketId: derivedId(cmd.commandId, 'ticket'), origin: cmd.origin, settings, at: cmd.at }),
    );
  }
}

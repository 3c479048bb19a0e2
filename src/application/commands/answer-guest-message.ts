import { Inject } from '@nestjs/common';
import { Command, CommandBus, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { aiMayAnswer, conversationStream, evolve, postAiReply, type ConversationEvent, type ConversationState } from '../../domain/conversation.js';
import type { AiResponder } from '../ports/ai-responder.js';
import type { EventStore } from '../ports/event-store.js';
import type { Clock } from '../ports/clock.js';
import { AI_RESPONDER, CLOCK, EVENT_STORE } from '../ports/tokens.js';
import { type ConversationCommandResult, decideOnConversation, visibleTo } from './conversation-decision.js';
import { RequestSupport } from './request-support.js';
import { derivedId } from './run-decision.js';
import { readFolded } from './stream-state-cache.js';
import { readPropertySettings } from './settings-reader.js';

export const UNAVAILABLE_TEXT =
  "I'm sorry, none of our team can join this chat right now. I'm happy to keep helping — what can I do for you?";

/** The command id of the support request AVA raises for a guest message (so its events say which message led to them). */
export const aiSupportRequestId = (guestMessageId: string) => derivedId(guestMessageId, 'ai-support-request');

/** AVA answers one guest message — or recognises a request for a person and raises it. */
export class AnswerGuestMessage extends Command<ConversationCommandResult | null> {
  constructor(
    readonly conversationId: string,
    readonly propertyId: string,
    readonly guestMessageId: string,
    readonly text: string,
    readonly at: string,
  ) {
    super();
  }
}

@CommandHandler(AnswerGuestMessage)
export class AnswerGuestMessageHandler implements ICommandHandler<AnswerGuestMessage> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(AI_RESPONDER) private readonly responder: AiResponder,
    private readonly commands: CommandBus,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute(cmd: AnswerGuestMessage): Promise<ConversationCommandResult | null> {
    const settings = await readPropertySettings(this.store, cmd.propertyId);
    const conversation = visibleTo(
      await readFolded<ConversationState, ConversationEvent>(this.store, conversationStream(cmd.conversationId), { initial: null, evolve }),
      cmd.propertyId,
    );
    // Checked before calling the responder so a paused AI costs nothing; checked again when deciding.
    if (!conversation || !aiMayAnswer(conversation, settings.chatMode) || !conversation.awaitingAi.has(cmd.guestMessageId)) {
      return null;
    }
    const response = await this.responder.respond({ conversationId: cmd.conversationId, guestName: conversation.guestName, text: cmd.text });
    let text: string;
    if (response.kind === 'support_request') {
      const request = await this.commands.execute(
        new RequestSupport(cmd.conversationId, cmd.propertyId, 'ai_detected', aiSupportRequestId(cmd.guestMessageId), cmd.at),
      );
      if (request.events.some((e) => e.type === 'TicketOpened')) return request;
      text = UNAVAILABLE_TEXT;
    } else {
      text = response.text;
    }
    const commandId = derivedId(cmd.guestMessageId, 'ai-reply');
    return decideOnConversation(
      this.store,
      cmd.conversationId,
      { propertyId: cmd.propertyId, commandId, actor: { kind: 'system', id: 'ava' } },
      (state) =>
        postAiReply(state, {
          messageId: derivedId(commandId, 'message'),
          text,
          inReplyTo: cmd.guestMessageId,
          chatMode: settings.chatMode,
          at: this.clock.now().toISOString(), // the service's clock, like every command's time
        }),
    );
  }
}

/**
 * Escalates a ticket's wait that the escalation watcher found due. Decided on the
 * conversation's own stream and the property's settings stream (never on the watcher's read
 * model), with a command id per ticket and wait: a repeat — after a crash, from a second
 * holder, or a tick before the watcher saw its own event — is answered from the event already
 * there and appends nothing.
 */
import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { type ConversationEvent, conversationStream } from '../../domain/conversation.js';
import {
  type EscalationReason,
  type EscalationState,
  decideEscalation,
  escalationCommandId,
  evolveEscalation,
} from '../../domain/escalation.js';
import {
  DEFAULT_ESCALATION_SETTINGS,
  type EscalationSettings,
  type PropertySettingsEvent,
  evolveEscalationSettings,
  propertySettingsStream,
} from '../../domain/settings.js';
import type { EventStore, Position } from '../ports/event-store.js';
import { EVENT_STORE } from '../ports/tokens.js';
import { runDecision } from './run-decision.js';
import { readFolded } from './stream-state-cache.js';

export interface EscalateTicketResult {
  /** A TicketEscalated exists for this wait (appended now, or earlier: `replayed`). */
  escalated: boolean;
  replayed: boolean;
  position: Position | null;
}

export class EscalateTicket extends Command<EscalateTicketResult> {
  constructor(
    readonly conversationId: string,
    readonly propertyId: string,
    readonly ticketId: string,
    readonly reason: EscalationReason,
    readonly waitingSince: string,
    /** The clock's now: the decision checks the wait has lasted long enough by then. */
    readonly at: string,
  ) {
    super();
  }
}

export const ESCALATION_ACTOR = { kind: 'system' as const, id: 'escalation-watcher' };

@CommandHandler(EscalateTicket)
export class EscalateTicketHandler implements ICommandHandler<EscalateTicket> {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async execute(cmd: EscalateTicket): Promise<EscalateTicketResult> {
    const { escalateAfterMinutes } = await readFolded<EscalationSettings, PropertySettingsEvent>(this.store, propertySettingsStream(cmd.propertyId), {
      initial: DEFAULT_ESCALATION_SETTINGS,
      evolve: evolveEscalationSettings,
    });
    const result = await runDecision<EscalationState, ConversationEvent>(this.store, {
      streamId: conversationStream(cmd.conversationId),
      initial: null,
      evolve: evolveEscalation,
      decide: (state) => decideEscalation(state, { ...cmd, escalateAfterMinutes }),
      metadata: {
        propertyId: cmd.propertyId,
        commandId: escalationCommandId(cmd.ticketId, cmd.reason, cmd.waitingSince),
        actor: ESCALATION_ACTOR,
      },
    });
    return { escalated: result.events.length > 0, replayed: result.replayed, position: result.position };
  }
}

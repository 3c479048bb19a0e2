/** The property's escalation setting (admin only; the HTTP layer enforces the role). */
import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import {
  DEFAULT_ESCALATION_SETTINGS,
  type EscalationSettings,
  type PropertySettingsEvent,
  decideEscalationSettings,
  evolveEscalationSettings,
  propertySettingsStream,
} from '../../domain/settings.js';
import type { EventStore, Position } from '../ports/event-store.js';
import { EVENT_STORE } from '../ports/tokens.js';
import { KnownProperties } from '../queries/known-properties.js';
import { ensurePropertyRegistered } from './register-property.js';
import { runDecision } from './run-decision.js';

export interface EscalationSettingsResult extends EscalationSettings {
  /** The last change of any property setting (as GET answers it), null before the first. */
  updatedAt: string | null;
  updatedBy: string | null;
  position: Position | null;
}

export class ChangeEscalationSettings extends Command<EscalationSettingsResult> {
  constructor(
    readonly propertyId: string,
    readonly adminId: string,
    readonly escalateAfterMinutes: number | null,
    readonly commandId: string,
    readonly at: string,
  ) {
    super();
  }
}

type State = EscalationSettings & { updatedAt: string | null; updatedBy: string | null };

const INITIAL_STATE: State = { ...DEFAULT_ESCALATION_SETTINGS, updatedAt: null, updatedBy: null };
/** At module level: the folded-state cache is keyed by the evolve function (run-decision.ts). */
const evolveState = (state: State, event: PropertySettingsEvent): State => ({
  ...evolveEscalationSettings(state, event),
  updatedAt: event.data.at,
  updatedBy: event.data.changedBy,
});

@CommandHandler(ChangeEscalationSettings)
export class ChangeEscalationSettingsHandler implements ICommandHandler<ChangeEscalationSettings> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly known: KnownProperties,
  ) {}

  async execute(cmd: ChangeEscalationSettings): Promise<EscalationSettingsResult> {
    const result = await runDecision<State, PropertySettingsEvent>(this.store, {
      streamId: propertySettingsStream(cmd.propertyId),
      initial: INITIAL_STATE,
      evolve: evolveState,
      decide: (state) => decideEscalationSettings(state, cmd.escalateAfterMinutes, cmd.adminId, cmd.at),
      metadata: { propertyId: cmd.propertyId, commandId: cmd.commandId, actor: { kind: 'employee', id: cmd.adminId } },
    });
    // An admin saved a setting (changed or not): the property is known (domain/property.ts).
    await ensurePropertyRegistered(this.store, this.known, cmd.propertyId, cmd.adminId, cmd.at);
    const { escalateAfterMinutes, updatedAt, updatedBy } = result.state;
    return { escalateAfterMinutes, updatedAt, updatedBy, position: result.position };
  }
}

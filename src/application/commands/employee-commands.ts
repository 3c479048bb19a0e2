/** What an employee changes about themselves: personal settings, alerts read. */
import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { DomainError } from '../../domain/errors.js';
import {
  DEFAULT_PERSONAL_SETTINGS,
  type EmployeeEvent,
  type EmployeeRole,
  type PersonalSettings,
  decidePersonalSettings,
  employeeStream,
  evolvePersonalSettings,
} from '../../domain/settings.js';
import type { EventStore, Position } from '../ports/event-store.js';
import type { ReadModelStore } from '../ports/read-models.js';
import { EVENT_STORE, READ_MODELS } from '../ports/tokens.js';
import { type AlertDoc, ALERTS } from '../projections/alerts.projection.js';
import { ProjectionsService } from '../projections/projections.service.js';
import { KnownProperties } from '../queries/known-properties.js';
import { ensurePropertyRegistered } from './register-property.js';
import { runDecision } from './run-decision.js';

export interface PersonalSettingsResult {
  settings: PersonalSettings;
  position: Position | null;
}

export type PersonalSettingsChange = Partial<Omit<PersonalSettings, 'closureMessage'>> & {
  closureMessage?: Partial<PersonalSettings['closureMessage']>;
};

export class ChangePersonalSettings extends Command<PersonalSettingsResult> {
  constructor(
    readonly propertyId: string,
    readonly employeeId: string,
    readonly change: PersonalSettingsChange,
    readonly commandId: string,
    readonly at: string,
    /** The saver's role, recorded in the event (the alerts projection learns the property's admins from it). */
    readonly role?: EmployeeRole,
  ) {
    super();
  }
}

export class MarkAlertRead extends Command<{ position: Position | null }> {
  constructor(
    readonly propertyId: string,
    readonly employeeId: string,
    readonly alertId: string,
    readonly commandId: string,
    readonly at: string,
  ) {
    super();
  }
}

const employeeDecision = (propertyId: string, employeeId: string, commandId: string) => ({
  streamId: employeeStream(propertyId, employeeId),
  initial: DEFAULT_PERSONAL_SETTINGS,
  evolve: evolvePersonalSettings,
  metadata: { propertyId, commandId, actor: { kind: 'employee' as const, id: employeeId } },
});

type SettingsWithRole = PersonalSettings & { role: EmployeeRole | null };
const INITIAL_SETTINGS_WITH_ROLE: SettingsWithRole = { ...DEFAULT_PERSONAL_SETTINGS, role: null };
/**
 * Also folds the role the last change recorded, so a new role is recorded even without a
 * settings change. At module level: the folded-state cache is keyed by the evolve function.
 */
const evolveSettingsWithRole = (state: SettingsWithRole, event: EmployeeEvent): SettingsWithRole => ({
  ...evolvePersonalSettings(state, event),
  role: event.type === 'PersonalSettingsChanged' ? (event.data.role ?? null) : state.role,
});

@CommandHandler(ChangePersonalSettings)
export class ChangePersonalSettingsHandler implements ICommandHandler<ChangePersonalSettings> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly known: KnownProperties,
  ) {}

  async execute(cmd: ChangePersonalSettings): Promise<PersonalSettingsResult> {
    const result = await runDecision<SettingsWithRole, EmployeeEvent>(this.store, {
      ...employeeDecision(cmd.propertyId, cmd.employeeId, cmd.commandId),
      initial: INITIAL_SETTINGS_WITH_ROLE,
      evolve: evolveSettingsWithRole,
      decide: (state) => {
        const next: PersonalSettings = {
          incomingSupportRequests: cmd.change.incomingSupportRequests ?? state.incomingSupportRequests,
          assignedChatActivity: cmd.change.assignedChatActivity ?? state.assignedChatActivity,
          closureMessage: {
            enabled: cmd.change.closureMessage?.enabled ?? state.closureMessage.enabled,
            text: cmd.change.closureMessage?.text ?? state.closureMessage.text,
          },
        };
        const role = cmd.role === undefined ? undefined : { current: cmd.role, recorded: state.role };
        return decidePersonalSettings(state, next, cmd.employeeId, cmd.at, role);
      },
    });
    // An admin saved their settings (changed or not): the property is known (domain/property.ts).
    if (cmd.role === 'admin') await ensurePropertyRegistered(this.store, this.known, cmd.propertyId, cmd.employeeId, cmd.at);
    const { incomingSupportRequests, assignedChatActivity, closureMessage } = result.state;
    return { settings: { incomingSupportRequests, assignedChatActivity, closureMessage }, position: result.position };
  }
}

@CommandHandler(MarkAlertRead)
export class MarkAlertReadHandler implements ICommandHandler<MarkAlertRead> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(READ_MODELS) private readonly readModels: ReadModelStore,
    private readonly projections: ProjectionsService,
  ) {}

  async execute(cmd: MarkAlertRead): Promise<{ position: Position | null }> {
    // Alerts exist only as a read model; an unknown or foreign id is a 404, not an event.
    const alert = await this.readModels.get<AlertDoc>(this.projections.collection('alerts', ALERTS), cmd.alertId);
    if (!alert || alert.propertyId !== cmd.propertyId || alert.employeeId !== cmd.employeeId) {
      throw new DomainError('not_found', 'alert_not_found', 'Alert not found');
    }
    const result = await runDecision<PersonalSettings, EmployeeEvent>(this.store, {
      ...employeeDecision(cmd.propertyId, cmd.employeeId, cmd.commandId),
      decide: () =>
        alert.read ? [] : [{ type: 'AlertMarkedRead', data: { alertId: cmd.alertId, employeeId: cmd.employeeId, at: cmd.at } }],
    });
    return { position: result.position };
  }
}

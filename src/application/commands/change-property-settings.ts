import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import {
  DEFAULT_PROPERTY_SETTINGS,
  type LiveChatSettings,
  type PropertySettings,
  type PropertySettingsEvent,
  decideLiveChatSettings,
  decidePushSwitch,
  evolvePropertySettings,
  propertySettingsStream,
} from '../../domain/settings.js';
import type { EventStore, Position } from '../ports/event-store.js';
import { EVENT_STORE } from '../ports/tokens.js';
import { KnownProperties } from '../queries/known-properties.js';
import { ensurePropertyRegistered } from './register-property.js';
import { runDecision } from './run-decision.js';

export interface PropertySettingsResult {
  settings: PropertySettings;
  position: Position | null;
}

/** Admin only; the HTTP layer enforces the role, the event records who. */
export class ChangeLiveChatSettings extends Command<PropertySettingsResult> {
  constructor(
    readonly propertyId: string,
    readonly adminId: string,
    /** Partial: a field left out keeps its current value. */
    readonly settings: Partial<LiveChatSettings>,
    readonly commandId: string,
    readonly at: string,
  ) {
    super();
  }
}

export class SwitchPushNotifications extends Command<PropertySettingsResult> {
  constructor(
    readonly propertyId: string,
    readonly adminId: string,
    readonly enabled: boolean,
    readonly commandId: string,
    readonly at: string,
  ) {
    super();
  }
}

async function decideOnPropertySettings(
  store: EventStore,
  known: KnownProperties,
  cmd: { propertyId: string; adminId: string; commandId: string; at: string },
  decide: (state: PropertySettings) => PropertySettingsEvent[],
): Promise<PropertySettingsResult> {
  const result = await runDecision<PropertySettings, PropertySettingsEvent>(store, {
    streamId: propertySettingsStream(cmd.propertyId),
    initial: DEFAULT_PROPERTY_SETTINGS,
    evolve: evolvePropertySettings,
    decide,
    metadata: { propertyId: cmd.propertyId, commandId: cmd.commandId, actor: { kind: 'employee', id: cmd.adminId } },
  });
  // An admin saved a setting (changed or not): the property is known (domain/property.ts).
  await ensurePropertyRegistered(store, known, cmd.propertyId, cmd.adminId, cmd.at);
  return { settings: result.state, position: result.position };
}

@CommandHandler(ChangeLiveChatSettings)
export class ChangeLiveChatSettingsHandler implements ICommandHandler<ChangeLiveChatSettings> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly known: KnownProperties,
  ) {}
  execute(cmd: ChangeLiveChatSettings) {
    return decideOnPropertySettings(this.store, this.known, cmd, (s) => decideLiveChatSettings(s, cmd.settings, cmd.adminId, cmd.at));
  }
}

@CommandHandler(SwitchPushNotifications)
export class SwitchPushNotificationsHandler implements ICommandHandler<SwitchPushNotifications> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly known: KnownProperties,
  ) {}
  execute(cmd: SwitchPushNotifications) {
    return decideOnPropertySettings(this.store, this.known, cmd, (s) => decidePushSwitch(s, cmd.enabled, cmd.adminId, cmd.at));
  }
}

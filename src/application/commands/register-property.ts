/**
 * Makes a property known (domain/property.ts), once: the CLI's `properties add`, and every save
 * of a setting by one of its admins (ensurePropertyRegistered, from the settings commands).
 */
import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import {
  INITIAL_PROPERTY_STATE,
  type PropertyEvent,
  type PropertyRegistrationSource,
  type PropertyState,
  evolveProperty,
  propertyStream,
  registerProperty,
} from '../../domain/property.js';
import type { EventStore, Position } from '../ports/event-store.js';
import { EVENT_STORE } from '../ports/tokens.js';
import { KnownProperties } from '../queries/known-properties.js';
import { derivedId, runDecision } from './run-decision.js';

export interface RegisterPropertyResult {
  /** false: it was registered already (nothing appended). */
  registered: boolean;
  position: Position | null;
}

export class RegisterProperty extends Command<RegisterPropertyResult> {
  constructor(
    readonly propertyId: string,
    readonly source: PropertyRegistrationSource,
    /** The admin's employee id, or `operator`. */
    readonly by: string,
    readonly at: string,
  ) {
    super();
  }
}

@CommandHandler(RegisterProperty)
export class RegisterPropertyHandler implements ICommandHandler<RegisterProperty> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly known: KnownProperties,
  ) {}

  execute(cmd: RegisterProperty): Promise<RegisterPropertyResult> {
    return register(this.store, this.known, cmd);
  }
}

/** From a settings command saved by an admin: their property is known from now on. Cheap once it is. */
export async function ensurePropertyRegistered(store: EventStore, known: KnownProperties, propertyId: string, adminId: string, at: string): Promise<void> {
  if (await known.isKnown(propertyId)) return;
  await register(store, known, { propertyId, source: 'admin_settings', by: adminId, at });
}

async function register(
  store: EventStore,
  known: KnownProperties,
  cmd: { propertyId: string; source: PropertyRegistrationSource; by: string; at: string },
): Promise<RegisterPropertyResult> {
  const result = await runDecision<PropertyState, PropertyEvent>(store, {
    streamId: propertyStream(cmd.propertyId),
    initial: INITIAL_PROPERTY_STATE,
    evolve: evolveProperty,
    decide: (state) => registerProperty(state, cmd),
    metadata: {
      propertyId: cmd.propertyId,
      // One registration per property, whoever asks: concurrent ones find each other's event.
      commandId: derivedId('register-property', cmd.propertyId),
      actor: cmd.source === 'cli' ? { kind: 'system', id: 'operator' } : { kind: 'employee', id: cmd.by },
    },
  });
  known.remember(cmd.propertyId);
  return { registered: result.events.length > 0 && !result.replayed, position: result.position };
}

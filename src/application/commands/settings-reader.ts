/**
 * Commands decide on settings read from their streams (not from read models), so a decision
 * never rests on a projection that lags behind.
 */
import {
  DEFAULT_PERSONAL_SETTINGS,
  DEFAULT_PROPERTY_SETTINGS,
  type EmployeeEvent,
  type PersonalSettings,
  type PropertySettings,
  type PropertySettingsEvent,
  employeeStream,
  evolvePersonalSettings,
  evolvePropertySettings,
  propertySettingsStream,
} from '../../domain/settings.js';
import type { EventStore } from '../ports/event-store.js';
import { foldStored } from './run-decision.js';

export async function readPropertySettings(store: EventStore, propertyId: string): Promise<PropertySettings> {
  return foldStored<PropertySettings, PropertySettingsEvent>(
    await store.readStream(propertySettingsStream(propertyId)),
    DEFAULT_PROPERTY_SETTINGS,
    evolvePropertySettings,
  );
}

export async function readPersonalSettings(store: EventStore, propertyId: string, employeeId: string): Promise<PersonalSettings> {
  return foldStored<PersonalSettings, EmployeeEvent>(
    await store.readStream(employeeStream(propertyId, employeeId)),
    DEFAULT_PERSONAL_SETTINGS,
    evolvePersonalSettings,
  );
}

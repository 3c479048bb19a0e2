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
import { readFolded } from './stream-state-cache.js';

export async function readPropertySettings(store: EventStore, propertyId: string): Promise<PropertySettings> {
  return readFolded<PropertySettings, PropertySettingsEvent>(store, propertySettingsStream(propertyId), {
    initial: DEFAULT_PROPERTY_SETTINGS,
    evolve: evolvePropertySettings,
  });
}

export async function readPersonalSettings(store: EventStore, propertyId: string, employeeId: string): Promise<PersonalSettings> {
  return readFolded<PersonalSettings, EmployeeEvent>(store, employeeStream(propertyId, employeeId), {
    initial: DEFAULT_PERSONAL_SETTINGS,
    evolve: evolvePersonalSettings,
  });
}

/**
 * Which properties (hotels) this service serves. Anonymous guests may start conversations only
 * for a known property, so a stranger cannot fill the log with conversations for ids that exist
 * nowhere. A property becomes known once: registered by an operator (`live-chat-tickets
 * properties add`), or by its first admin who saves any setting. Its stream holds that one event.
 *
 * Properties whose settings stream has events (admins who changed a setting before properties
 * were registered) are known too: application/properties/known-properties.ts reads both.
 */
import { DomainError } from './errors.js';

export type PropertyRegistrationSource = 'cli' | 'admin_settings';

export type PropertyEvent = {
  type: 'PropertyRegistered';
  /** `by`: the admin's employee id, or `operator` for the CLI. */
  data: { propertyId: string; source: PropertyRegistrationSource; by: string; at: string };
};

export interface PropertyState {
  registered: boolean;
}

export const INITIAL_PROPERTY_STATE: PropertyState = { registered: false };

export const propertyStream = (propertyId: string) => `property-${propertyId}`;

export function evolveProperty(state: PropertyState, event: PropertyEvent): PropertyState {
  return event.type === 'PropertyRegistered' ? { registered: true } : state;
}

/** Registering a known property again records nothing. */
export function registerProperty(
  state: PropertyState,
  cmd: { propertyId: string; source: PropertyRegistrationSource; by: string; at: string },
): PropertyEvent[] {
  if (state.registered) return [];
  return [{ type: 'PropertyRegistered', data: { propertyId: cmd.propertyId, source: cmd.source, by: cmd.by, at: cmd.at } }];
}

export const unknownProperty = (propertyId: string) =>
  new DomainError('not_found', 'unknown_property', `Unknown property "${propertyId}": its admin has not saved any setting yet, and no operator added it`, {
    propertyId,
  });

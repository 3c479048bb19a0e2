/**
 * Known properties (domain/property.ts): registered once; registering again records nothing.
 */
import { describe, it } from '@jest/globals';
import { INITIAL_PROPERTY_STATE, type PropertyEvent, type PropertyState, evolveProperty, registerProperty } from '../../src/domain/property.js';
import { deciderSpec } from './given-when-then.js';

const given = deciderSpec<PropertyState, PropertyEvent>(evolveProperty, () => INITIAL_PROPERTY_STATE);
const cmd = { propertyId: 'hotel-1', source: 'cli' as const, by: 'operator', at: '2025-01-01T10:00:00.000Z' };
const registered: PropertyEvent = { type: 'PropertyRegistered', data: cmd };

describe('property registration', () => {
  it('registers an unknown property', () => {
    given([]).when((state) => registerProperty(state, cmd)).then([registered]);
  });

  it('records nothing for a property registered already (by anyone)', () => {
    given([{ type: 'PropertyRegistered', data: { ...cmd, source: 'admin_settings', by: 'grace' } }])
      .when((state) => registerProperty(state, cmd))
      .thenNothing();
  });
});

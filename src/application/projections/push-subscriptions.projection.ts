/**
 * Employees' push subscriptions as documents: the caller's list, and the keys the push worker
 * encrypts with. The read-model port has no delete, so a removal marks the document inactive
 * (and says why); subscribing the same endpoint again reactivates the same document.
 */
import type { PushSubscriptionEvent, PushSubscriptionKeys } from '../../domain/push-subscriptions.js';
import type { StoredEvent } from '../ports/event-store.js';
import type { Doc } from '../ports/read-models.js';
import type { Projection, ProjectionContext } from './projection.js';

export interface PushSubscriptionDoc extends Doc {
  /** The subscription id (UUIDv5 of property, employee and endpoint). */
  _id: string;
  propertyId: string;
  employeeId: string;
  endpoint: string;
  expirationTime: number | null;
  keys: PushSubscriptionKeys;
  createdAt: string;
  active: boolean;
  removedReason: string | null;
}

export const PUSH_SUBSCRIPTIONS = 'pushSubscriptions';

export const pushSubscriptionsProjection: Projection = {
  name: 'pushSubscriptions',
  version: 1,
  collections: [PUSH_SUBSCRIPTIONS],
  indexes: [{ collection: PUSH_SUBSCRIPTIONS, fields: { propertyId: 1, employeeId: 1 } }],
  handles: new Set(['PushSubscriptionAdded', 'PushSubscriptionRemoved']),
  async apply(stored: StoredEvent, ctx: ProjectionContext) {
    const propertyId = stored.metadata.propertyId;
    const e = { type: stored.type, data: stored.data } as PushSubscriptionEvent;
    if (e.type === 'PushSubscriptionAdded') {
      await ctx.update<PushSubscriptionDoc>(PUSH_SUBSCRIPTIONS, e.data.subscriptionId, () => ({
        _id: e.data.subscriptionId,
        propertyId,
        employeeId: e.data.employeeId,
        endpoint: e.data.endpoint,
        expirationTime: e.data.expirationTime,
        keys: e.data.keys,
        createdAt: e.data.at,
        active: true,
        removedReason: null,
      }));
      return;
    }
    await ctx.update<PushSubscriptionDoc>(PUSH_SUBSCRIPTIONS, e.data.subscriptionId, (doc) =>
      doc ? { ...doc, active: false, removedReason: e.data.reason } : null,
    );
  },
};

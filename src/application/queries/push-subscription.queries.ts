/** Reads of the push subscriptions read model: the caller's own list, and the push worker's batch. */
import { Inject, Injectable } from '@nestjs/common';
import type { ReadModelStore } from '../ports/read-models.js';
import { READ_MODELS } from '../ports/tokens.js';
import { ProjectionsService } from '../projections/projections.service.js';
import { PUSH_SUBSCRIPTIONS, type PushSubscriptionDoc } from '../projections/push-subscriptions.projection.js';

/** What an employee sees of their own subscriptions: never the keys (`auth` is a secret). */
export interface PushSubscriptionView {
  id: string;
  endpoint: string;
  expirationTime: number | null;
  createdAt: string;
}

export const pushSubscriptionView = (d: Pick<PushSubscriptionDoc, '_id' | 'endpoint' | 'expirationTime' | 'createdAt'>): PushSubscriptionView => ({
  id: d._id,
  endpoint: d.endpoint,
  expirationTime: d.expirationTime,
  createdAt: d.createdAt,
});

// An active document's `_pos` is its PushSubscriptionAdded: sorting by it is subscription order
// (the stores sort by document fields only, and `createdAt` can tie within a millisecond).
const oldestFirst = (a: PushSubscriptionDoc, b: PushSubscriptionDoc) => (a._pos < b._pos ? -1 : a._pos > b._pos ? 1 : 0);

@Injectable()
export class PushSubscriptionQueries {
  constructor(
    @Inject(READ_MODELS) private readonly store: ReadModelStore,
    private readonly projections: ProjectionsService,
  ) {}

  private get collection() {
    return this.projections.collection('pushSubscriptions', PUSH_SUBSCRIPTIONS);
  }

  /** The caller's active subscriptions, oldest first (at most the cap, so sorting here is cheap). */
  async list(propertyId: string, employeeId: string): Promise<PushSubscriptionView[]> {
    const docs = await this.store.find<PushSubscriptionDoc>(this.collection, { propertyId, employeeId, active: true });
    return docs.sort(oldestFirst).map(pushSubscriptionView);
  }

  /**
   * Full documents, keys included, of every active subscription of these employees, for the
   * push worker. One `$in` query per call: on FerretDB each query costs, so the cost grows per
   * batch of recipients, not per employee.
   */
  async activeFor(propertyId: string, employeeIds: string[]): Promise<PushSubscriptionDoc[]> {
    const ids = [...new Set(employeeIds)];
    if (ids.length === 0) return [];
    const docs = await this.store.find<PushSubscriptionDoc>(this.collection, { propertyId, employeeId: { $in: ids }, active: true });
    return docs.sort(oldestFirst);
  }
}

/**
 * Owns the projectors of this process and answers "has projection X reached position P?"
 * for read-your-writes. The answer comes from the stored checkpoint, so it also holds when
 * the projector runs in another process.
 */
import { Inject, Injectable } from '@nestjs/common';
import type { ChangeFeed } from '../ports/change-feed.js';
import type { EventStore, Position } from '../ports/event-store.js';
import type { ReadModelStore } from '../ports/read-models.js';
import { CHANGE_FEED, EVENT_STORE, READ_MODELS } from '../ports/tokens.js';
import { alertsProjection } from './alerts.projection.js';
import { employeeNamesProjection } from './employee-names.projection.js';
import { inboxProjection } from './inbox.projection.js';
import { LogConsumer } from '../processing/log-consumer.js';
import { Projector } from '../processing/projector.js';
import { type Projection, physicalCollection } from './projection.js';
import { pushSubscriptionsProjection } from './push-subscriptions.projection.js';
import { settingsProjection } from './settings.projection.js';

export const PROJECTIONS: readonly Projection[] = [
  inboxProjection,
  settingsProjection,
  alertsProjection,
  pushSubscriptionsProjection,
  employeeNamesProjection,
];
export type ProjectionName = 'inbox' | 'settings' | 'alerts' | 'pushSubscriptions' | 'employeeNames';

const byName = (name: ProjectionName) => PROJECTIONS.find((p) => p.name === name)!;

@Injectable()
export class ProjectionsService {
  /** All projections run as one group (see Projector for why), as one consumer of the log. */
  readonly consumer: LogConsumer;

  constructor(
    @Inject(EVENT_STORE) events: EventStore,
    @Inject(READ_MODELS) private readonly store: ReadModelStore,
    @Inject(CHANGE_FEED) feed: ChangeFeed,
  ) {
    this.consumer = new LogConsumer(new Projector(PROJECTIONS, store, feed), events, store);
  }

  async startAll(): Promise<void> {
    await this.consumer.start();
  }

  async stopAll(): Promise<void> {
    await this.consumer.stop();
  }

  collection(name: ProjectionName, logical: string): string {
    return physicalCollection(logical, byName(name).version);
  }

  /** The group's checkpoint: every projection in it has applied the log up to here. */
  async checkpoint(): Promise<Position | null> {
    return this.store.checkpoint(this.consumer.name);
  }

  /**
   * Waits (briefly) until the projections have applied `position`. Answers whether it did;
   * callers serve what they have either way and say so.
   */
  async waitFor(position: Position | null, timeoutMs = 2000): Promise<boolean> {
    if (position === null) return true;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const checkpoint = await this.checkpoint();
      if (checkpoint !== null && checkpoint >= position) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, 3));
    }
  }
}

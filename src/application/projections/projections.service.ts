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
import { inboxProjection } from './inbox.projection.js';
import { type Projection, physicalCollection } from './projection.js';
import { Projector } from './projector.js';
import { settingsProjection } from './settings.projection.js';

export const PROJECTIONS: readonly Projection[] = [inboxProjection, settingsProjection, alertsProjection];
export type ProjectionName = 'inbox' | 'settings' | 'alerts';

const byName = (name: ProjectionName) => PROJECTIONS.find((p) => p.name === name)!;

@Injectable()
export class ProjectionsService {
  /** All projections run as one group (see Projector for why). */
  private readonly projector: Projector;

  constructor(
    @Inject(EVENT_STORE) events: EventStore,
    @Inject(READ_MODELS) private readonly store: ReadModelStore,
    @Inject(CHANGE_FEED) feed: ChangeFeed,
  ) {
    this.projector = new Projector(PROJECTIONS, events, store, feed);
  }

  async startAll(): Promise<void> {
    await this.projector.start();
  }

  async stopAll(): Promise<void> {
    await this.projector.stop();
  }

  collection(name: ProjectionName, logical: string): string {
    return physicalCollection(logical, byName(name).version);
  }

  /** The group's checkpoint: every projection in it has applied the log up to here. */
  async checkpoint(): Promise<Position | null> {
    return this.store.checkpoint(this.projector.name);
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

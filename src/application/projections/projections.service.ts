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
import { type Projection, checkpointName, physicalCollection } from './projection.js';
import { Projector } from './projector.js';
import { settingsProjection } from './settings.projection.js';

export const PROJECTIONS: readonly Projection[] = [inboxProjection, settingsProjection, alertsProjection];
export type ProjectionName = 'inbox' | 'settings' | 'alerts';

const byName = (name: ProjectionName) => PROJECTIONS.find((p) => p.name === name)!;

@Injectable()
export class ProjectionsService {
  private projectors: Projector[] = [];

  constructor(
    @Inject(EVENT_STORE) private readonly events: EventStore,
    @Inject(READ_MODELS) private readonly store: ReadModelStore,
    @Inject(CHANGE_FEED) private readonly feed: ChangeFeed,
  ) {}

  async startAll(): Promise<void> {
    this.projectors = PROJECTIONS.map((p) => new Projector(p, this.events, this.store, this.feed));
    await Promise.all(this.projectors.map((p) => p.start()));
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.projectors.map((p) => p.stop()));
    this.projectors = [];
  }

  collection(name: ProjectionName, logical: string): string {
    return physicalCollection(logical, byName(name).version);
  }

  async checkpoint(name: ProjectionName): Promise<Position | null> {
    return this.store.checkpoint(checkpointName(byName(name)));
  }

  /**
   * Waits (briefly) until the projection has applied `position`. Answers whether it did;
   * callers serve what they have either way and say so.
   */
  async waitFor(names: ProjectionName[], position: Position | null, timeoutMs = 2000): Promise<boolean> {
    if (position === null) return true;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const checkpoints = await Promise.all(names.map((n) => this.checkpoint(n)));
      if (checkpoints.every((c) => c !== null && c >= position)) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, 3));
    }
  }
}

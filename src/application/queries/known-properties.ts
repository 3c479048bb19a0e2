/**
 * Is a property known (domain/property.ts)? Read from the event store, not a read model, so a
 * property the CLI just added is known at once on every instance (no projection lag), and a
 * check costs two small stream reads (its registration, its settings) — once: a known property
 * stays known (nothing unregisters one), so the answer is kept in process. An unknown id is
 * read again each time (it may be added any moment); the conversation-start rate limit bounds
 * how often a stranger can make the service look.
 */
import { Inject, Injectable } from '@nestjs/common';
import { type PropertyRegistrationSource, propertyStream } from '../../domain/property.js';
import { propertySettingsStream } from '../../domain/settings.js';
import type { EventStore } from '../ports/event-store.js';
import { EVENT_STORE } from '../ports/tokens.js';

/** Enough for every property of a large deployment; past it the oldest answers are read again. */
const REMEMBERED = 100_000;

export interface KnownProperty {
  propertyId: string;
  /** How it became known: registered (by the CLI or an admin's save), or by its settings alone (before registrations existed). */
  source: PropertyRegistrationSource | 'settings';
  at: string;
}

@Injectable()
export class KnownProperties {
  private readonly known = new Set<string>();

  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async isKnown(propertyId: string): Promise<boolean> {
    if (this.known.has(propertyId)) return true;
    const known =
      (await this.store.readStream(propertyStream(propertyId))).length > 0 ||
      (await this.store.readStream(propertySettingsStream(propertyId))).length > 0;
    if (known) this.remember(propertyId);
    return known;
  }

  remember(propertyId: string): void {
    if (this.known.size >= REMEMBERED) this.known.delete(this.known.values().next().value!);
    this.known.add(propertyId);
  }

  /** Every known property, from the whole log (an operator's listing: it reads every event once). */
  async list(batchSize = 1000): Promise<KnownProperty[]> {
    const found = new Map<string, KnownProperty>();
    for (let after: bigint | null = null; ; ) {
      const batch = await this.store.readAll(after, batchSize);
      if (batch.length === 0) break;
      for (const e of batch) {
        if (e.type === 'PropertyRegistered') {
          const d = e.data as { propertyId: string; source: PropertyRegistrationSource; at: string };
          found.set(d.propertyId, { propertyId: d.propertyId, source: d.source, at: d.at });
        } else if (e.streamId === propertySettingsStream(e.metadata.propertyId) && !found.has(e.metadata.propertyId)) {
          found.set(e.metadata.propertyId, { propertyId: e.metadata.propertyId, source: 'settings', at: (e.data as { at?: string }).at ?? e.recordedAt.toISOString() });
        }
      }
      after = batch[batch.length - 1]!.position;
    }
    return [...found.values()].sort((a, b) => (a.propertyId < b.propertyId ? -1 : a.propertyId > b.propertyId ? 1 : 0));
  }
}

/**
 * Operations: who changed a property's settings (Request Support Chat and chat mode, the push
 * switch, escalation) and when — every event of the property settings stream in order, each
 * with the settings it left — and the settings as of any moment, folded from that stream
 * (as-of.ts: by the events' own time, as a prefix), exactly as commands fold it.
 */
import { Inject, Injectable } from '@nestjs/common';
import {
  DEFAULT_ESCALATION_SETTINGS,
  DEFAULT_PROPERTY_SETTINGS,
  type EscalationSettings,
  type PropertySettings,
  type PropertySettingsEvent,
  evolveEscalationSettings,
  evolvePropertySettings,
  propertySettingsStream,
} from '../../domain/settings.js';
import type { EventStore, StoredEvent } from '../ports/event-store.js';
import { EVENT_STORE } from '../ports/tokens.js';
import { eventsAsOf } from './as-of.js';
import { historyEntry } from './history.queries.js';

/** All property settings in one object: what the three settings GETs show together. */
export type PropertySettingsView = PropertySettings & EscalationSettings;

const INITIAL: PropertySettingsView = { ...DEFAULT_PROPERTY_SETTINGS, ...DEFAULT_ESCALATION_SETTINGS };

function evolveView(state: PropertySettingsView, stored: StoredEvent): PropertySettingsView {
  const event = { type: stored.type, data: stored.data } as PropertySettingsEvent;
  const { requestSupportChat, chatMode, pushNotificationsEnabled } = evolvePropertySettings(state, event);
  const { escalateAfterMinutes } = evolveEscalationSettings(state, event);
  return { requestSupportChat, chatMode, pushNotificationsEnabled, escalateAfterMinutes };
}

export type SettingsHistoryEntry = ReturnType<typeof historyEntry> & { settings: PropertySettingsView };

@Injectable()
export class SettingsHistoryQueries {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  /** The stream of the caller's property only (a property that never changed a setting has none: `[]`). */
  private async events(propertyId: string): Promise<StoredEvent[]> {
    const events = await this.store.readStream(propertySettingsStream(propertyId));
    return events.filter((e) => e.metadata.propertyId === propertyId);
  }

  /** Every settings event in order, each with the settings as they were right after it. */
  async entries(propertyId: string): Promise<SettingsHistoryEntry[]> {
    let state = INITIAL;
    return (await this.events(propertyId)).map((e) => {
      state = evolveView(state, e);
      return { ...historyEntry(e), settings: state };
    });
  }

  async stateAt(propertyId: string, at: Date) {
    const events = eventsAsOf(await this.events(propertyId), at);
    const settings = events.reduce(evolveView, INITIAL);
    const last = events.at(-1);
    return {
      propertyId,
      at: at.toISOString(),
      settings,
      /** Like the settings GETs: the last change of any property setting by then. */
      updatedAt: (last?.data.at as string | undefined) ?? null,
      updatedBy: (last?.data.changedBy as string | undefined) ?? null,
      eventsApplied: events.length,
      lastEvent: last ? historyEntry(last) : null,
    };
  }
}

/** Operations: a conversation's events in order, and its state as of any moment (by the events' own time, see as-of.ts). */
import { Inject, Injectable } from '@nestjs/common';
import { type ConversationEvent, type ConversationState, conversationStream, evolve } from '../../domain/conversation.js';
import { DomainError } from '../../domain/errors.js';
import type { EventStore, StoredEvent } from '../ports/event-store.js';
import { EVENT_STORE } from '../ports/tokens.js';
import { eventsAsOf } from './as-of.js';

/** The events that move a ticket; each carries who moved it (data, and the actor in metadata). */
const TICKET_MOVES: ReadonlySet<string> = new Set(['TicketOpened', 'TicketTakenOver', 'TicketReleased', 'TicketReassigned', 'TicketClosed']);

export function historyEntry(e: StoredEvent) {
  return {
    position: e.position.toString(),
    revision: e.revision.toString(),
    id: e.id,
    type: e.type,
    recordedAt: e.recordedAt.toISOString(),
    data: e.data,
    metadata: e.metadata,
  };
}

@Injectable()
export class HistoryQueries {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async events(propertyId: string, conversationId: string): Promise<StoredEvent[]> {
    const events = await this.store.readStream(conversationStream(conversationId));
    if (events.length === 0 || events[0]!.metadata.propertyId !== propertyId) {
      throw new DomainError('not_found', 'conversation_not_found', 'Conversation not found');
    }
    return events;
  }

  async stateAt(propertyId: string, conversationId: string, at: Date) {
    // Events by their own time (`data.at`, the service's clock), as a prefix of the stream: see as-of.ts.
    const events = eventsAsOf(await this.events(propertyId, conversationId), at);
    const state = events.reduce<ConversationState>((s, e) => evolve(s, { type: e.type, data: e.data } as ConversationEvent), null);
    const last = events[events.length - 1];
    const lastMove = events.filter((e) => TICKET_MOVES.has(e.type)).at(-1);
    return {
      conversationId,
      at: at.toISOString(),
      existed: state !== null,
      state:
        state === null
          ? null
          : { id: state.id, guestName: state.guestName, startedAt: state.startedAt, ticket: state.ticket },
      eventsApplied: events.length,
      lastEvent: last ? historyEntry(last) : null,
      /** Who last moved the ticket (opened, took over, released, reassigned, closed) as of `at`. */
      lastTicketEvent: lastMove ? historyEntry(lastMove) : null,
    };
  }
}

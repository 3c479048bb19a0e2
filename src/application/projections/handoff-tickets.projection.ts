/**
 * Hand-off metrics' read model: one document per ticket with the facts the metrics need
 * (domain/handoff-metrics.ts folds them), and one per declined support request. Both carry a
 * time key (`${at}#${id}`, ISO times sort as strings) indexed with the property, so the
 * metrics query reads exactly the tickets opened in its range, in pages.
 */
import type { ConversationEvent } from '../../domain/conversation.js';
import {
  type DeclinedRequest,
  HANDOFF_TICKET_EVENTS,
  type HandoffTicket,
  evolveHandoffTicket,
  openedTicket,
} from '../../domain/handoff-metrics.js';
import type { StoredEvent } from '../ports/event-store.js';
import type { Doc } from '../ports/read-models.js';
import type { Projection, ProjectionContext } from './projection.js';

export interface HandoffTicketDoc extends Doc, HandoffTicket {
  /** `${openedAt}#${ticketId}`: unique, sorts by opening time. */
  openedKey: string;
}
export interface DeclinedRequestDoc extends Doc, DeclinedRequest {
  /** `${at}#${eventId}`: unique, sorts by time. */
  atKey: string;
}

export const HANDOFF_TICKETS = 'handoffTickets';
export const HANDOFF_DECLINES = 'handoffDeclines';

/** A time key: the instant in `toISOString()` form (fixed width, so strings sort like times), then a unique id. */
export const timeKey = (at: string, id: string) => `${new Date(at).toISOString()}#${id}`;

export const handoffTicketsProjection: Projection = {
  name: 'handoffTickets',
  version: 1,
  collections: [HANDOFF_TICKETS, HANDOFF_DECLINES],
  indexes: [
    { collection: HANDOFF_TICKETS, fields: { propertyId: 1, openedKey: 1 } },
    { collection: HANDOFF_DECLINES, fields: { propertyId: 1, atKey: 1 } },
  ],
  handles: new Set<string>(['TicketOpened', 'SupportRequestDeclined', ...HANDOFF_TICKET_EVENTS]),
  async apply(stored: StoredEvent, ctx: ProjectionContext) {
    const propertyId = stored.metadata.propertyId;
    const conversationId = stored.streamId.slice('conversation-'.length);
    const event = { type: stored.type, data: stored.data } as ConversationEvent;
    switch (event.type) {
      case 'TicketOpened': {
        const ticket = openedTicket(event, { propertyId, conversationId });
        await ctx.update<HandoffTicketDoc>(HANDOFF_TICKETS, ticket.ticketId, () => ({
          _id: ticket.ticketId,
          ...ticket,
          openedKey: timeKey(ticket.openedAt, ticket.ticketId),
        }));
        return;
      }
      case 'SupportRequestDeclined':
        await ctx.update<DeclinedRequestDoc>(HANDOFF_DECLINES, stored.id, () => ({
          _id: stored.id,
          propertyId,
          conversationId,
          at: event.data.at,
          reasons: event.data.reasons,
          origin: event.data.origin,
          atKey: timeKey(event.data.at, stored.id),
        }));
        return;
      default: {
        const ticketId = (event.data as { ticketId?: string }).ticketId;
        if (typeof ticketId !== 'string') return;
        await ctx.update<HandoffTicketDoc>(HANDOFF_TICKETS, ticketId, (doc) => {
          if (doc === null) return null;
          const next = evolveHandoffTicket(doc, event);
          if (next === doc) return null;
          const { _pos: _p, ...rest } = doc;
          return { ...rest, ...next, openedKey: doc.openedKey };
        });
      }
    }
  },
};

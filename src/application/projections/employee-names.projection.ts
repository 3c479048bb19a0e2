/**
 * The display name last seen for each employee of a property, taken from the events that carry
 * one. Employees live in the identity provider, not here: this is how a reassign that names only
 * an id still shows colleagues (and the guest) a person's name.
 */
import type { ConversationEvent, Employee } from '../../domain/conversation.js';
import type { StoredEvent } from '../ports/event-store.js';
import type { Doc } from '../ports/read-models.js';
import type { Projection, ProjectionContext } from './projection.js';

export interface EmployeeNameDoc extends Doc {
  propertyId: string;
  employeeId: string;
  name: string;
  at: string;
}

export const EMPLOYEE_NAMES = 'employeeNames';
export const employeeNameId = (propertyId: string, employeeId: string) => `${propertyId}:${employeeId}`;

function namesIn(event: ConversationEvent): Employee[] {
  switch (event.type) {
    case 'TicketTakenOver':
    case 'EmployeeReplied':
      return [{ id: event.data.employeeId, name: event.data.employeeName }];
    case 'TicketReleased':
      return [event.data.releasedBy];
    case 'TicketReassigned':
      return [event.data.reassignedBy, { id: event.data.employeeId, name: event.data.employeeName }];
    case 'TicketClosed':
      return event.data.closedBy ? [event.data.closedBy] : [];
    default:
      return [];
  }
}

export const employeeNamesProjection: Projection = {
  name: 'employeeNames',
  version: 1,
  collections: [EMPLOYEE_NAMES],
  indexes: [],
  handles: new Set<ConversationEvent['type']>(['TicketTakenOver', 'EmployeeReplied', 'TicketReleased', 'TicketReassigned', 'TicketClosed']),
  async apply(stored: StoredEvent, ctx: ProjectionContext) {
    const propertyId = stored.metadata.propertyId;
    const event = { type: stored.type, data: stored.data } as ConversationEvent;
    // A name equal to the id is a token without `name` (or a reassign that knew no better): nothing learned.
    for (const seen of namesIn(event).filter((e) => e.name !== e.id)) {
      const id = employeeNameId(propertyId, seen.id);
      await ctx.update<EmployeeNameDoc>(EMPLOYEE_NAMES, id, () => ({
        _id: id,
        propertyId,
        employeeId: seen.id,
        name: seen.name,
        at: event.data.at,
      }));
    }
  },
};

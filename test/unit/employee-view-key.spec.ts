/**
 * The SSE fan-out renders a conversation once per `employeeViewKey` (views.ts): the key must
 * cover everything of the viewer the employee view depends on: for every ticket state, viewers
 * with the same key get equal views (a finer key only costs a rendering more).
 */
import { describe, expect, it } from '@jest/globals';
import { type ConversationSnapshot, employeeConversationView, employeeViewKey } from '../../src/application/views.js';
import type { Viewer } from '../../src/domain/badges.js';

const base = { id: 'c-1', propertyId: 'hotel-a', guestName: 'Ivy', aiActive: false, position: '7' } as unknown as ConversationSnapshot;
const tickets = [
  null,
  { status: 'open', ownerId: null, ownerName: null },
  { status: 'assigned', ownerId: 'alice', ownerName: 'Alice' },
  { status: 'closed', ownerId: 'alice', ownerName: 'Alice' },
];
const viewers: Viewer[] = [
  { id: 'alice', role: 'agent' },
  { id: 'bob', role: 'agent' },
  { id: 'carol', role: 'agent' },
  { id: 'alice', role: 'admin' },
  { id: 'grace', role: 'admin' },
  { id: 'heidi', role: 'admin' },
];

describe('employeeViewKey', () => {
  it.each(tickets.map((ticket) => ({ label: ticket?.status ?? 'no ticket', ticket })))('gives viewers with the same key the same view ($label)', ({ ticket }) => {
    const snapshot = { ...base, ticket } as ConversationSnapshot;
    const byKey = new Map<string, unknown>();
    for (const viewer of viewers) {
      const key = employeeViewKey(snapshot, viewer);
      const view = employeeConversationView(snapshot, viewer);
      if (byKey.has(key)) expect(view).toEqual(byKey.get(key));
      else byKey.set(key, view);
    }
    // Not everyone alike: the owner and an admin see more than another agent while the ticket is active.
    if (ticket?.status === 'assigned') expect(byKey.size).toBeGreaterThanOrEqual(3);
  });
});

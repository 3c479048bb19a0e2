/**
 * SPEC §2 Badges (computed for the employee who is looking):
 * | ticket state  | viewer is the owner | viewer is someone else |
 * | OPEN          | open_ticket         | open_ticket            |
 * | ASSIGNED      | assigned_to_you     | assigned               |
 * | CLOSED / none | no badge            | no badge               |
 * "Every conversation view also returns the actions the viewer may take now (takeOver, reply, close)."
 */
import { describe, it, expect } from '@jest/globals';
import { actionsFor, badgeFor, type Actions, type Badge, type TicketView } from '../../src/domain/badges.js';
import { given } from './given-when-then.js';
import { alice, assignedTo, bob, closedTicket, noTicket, openTicket } from './fixtures.js';

const owner = alice.id;
const someoneElse = bob.id;

const tickets: Record<'none' | 'open' | 'assigned' | 'closed', TicketView | null> = {
  none: null,
  open: { status: 'open', ownerId: null },
  assigned: { status: 'assigned', ownerId: owner },
  closed: { status: 'closed', ownerId: owner },
};

const nothing: Actions = { takeOver: false, reply: false, close: false };
const canTakeOver: Actions = { takeOver: true, reply: false, close: false };
const canReplyAndClose: Actions = { takeOver: false, reply: true, close: true };

// ticket state, viewer, badge, actions
const table: Array<[keyof typeof tickets, 'owner' | 'someone else', Badge, Actions]> = [
  ['none', 'owner', null, nothing],
  ['none', 'someone else', null, nothing],
  ['open', 'owner', 'open_ticket', canTakeOver],
  ['open', 'someone else', 'open_ticket', canTakeOver],
  ['assigned', 'owner', 'assigned_to_you', canReplyAndClose],
  ['assigned', 'someone else', 'assigned', nothing],
  ['closed', 'owner', null, nothing],
  ['closed', 'someone else', null, nothing],
];

describe('badge and actions for the viewer', () => {
  it.each(table)('ticket %s, viewer is the %s → badge %s', (state, viewer, badge, actions) => {
    const viewerId = viewer === 'owner' ? owner : someoneElse;
    expect(badgeFor(tickets[state], viewerId)).toBe(badge);
    expect(actionsFor(tickets[state], viewerId)).toEqual(actions);
  });

  describe('computed from the conversation the events fold to', () => {
    const streams = { none: noTicket, open: openTicket, assigned: () => assignedTo(alice), closed: () => closedTicket(alice) };

    it.each(table)('ticket %s, viewer is the %s → badge %s', (state, viewer, badge, actions) => {
      const ticket = given(streams[state]()).state?.ticket ?? null;
      const viewerId = viewer === 'owner' ? alice.id : bob.id;
      expect(badgeFor(ticket, viewerId)).toBe(badge);
      expect(actionsFor(ticket, viewerId)).toEqual(actions);
    });
  });
});

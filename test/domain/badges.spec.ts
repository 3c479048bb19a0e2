/**
 * SPEC §2 Badges (computed for the employee who is looking):
 * | ticket state  | viewer is the owner | viewer is someone else |
 * | OPEN          | open_ticket         | open_ticket            |
 * | ASSIGNED      | assigned_to_you     | assigned               |
 * | CLOSED / none | no badge            | no badge               |
 * "Every conversation view also returns the actions the viewer may take now (takeOver, reply,
 * close, release, reassign)" — for the viewer's role too: an admin may close, release and
 * reassign any active ticket; anyone may take over or reply to an OPEN one.
 */
import { describe, it, expect } from '@jest/globals';
import { actionsFor, badgeFor, type Actions, type Badge, type TicketView, type Viewer } from '../../src/domain/badges.js';
import { given } from './given-when-then.js';
import { alice, assignedTo, bob, closedTicket, noTicket, openTicket } from './fixtures.js';

const owner = alice.id;

const tickets: Record<'none' | 'open' | 'assigned' | 'closed', TicketView | null> = {
  none: null,
  open: { status: 'open', ownerId: null },
  assigned: { status: 'assigned', ownerId: owner },
  closed: { status: 'closed', ownerId: owner },
};

const viewers: Record<'owner' | 'another agent' | 'an admin', Viewer> = {
  owner: { id: owner, role: 'agent' },
  'another agent': { id: bob.id, role: 'agent' },
  'an admin': { id: 'emp-grace', role: 'admin' },
};

const act = (granted: Array<keyof Actions>): Actions => {
  const actions: Actions = { takeOver: false, reply: false, close: false, release: false, reassign: false };
  for (const a of granted) actions[a] = true;
  return actions;
};

// ticket state, viewer, badge, actions
const table: Array<[keyof typeof tickets, keyof typeof viewers, Badge, Actions]> = [
  ['none', 'owner', null, act([])],
  ['none', 'another agent', null, act([])],
  ['none', 'an admin', null, act([])],
  ['open', 'owner', 'open_ticket', act(['takeOver', 'reply'])],
  ['open', 'another agent', 'open_ticket', act(['takeOver', 'reply'])],
  ['open', 'an admin', 'open_ticket', act(['takeOver', 'reply', 'close', 'reassign'])],
  ['assigned', 'owner', 'assigned_to_you', act(['reply', 'close', 'release'])],
  ['assigned', 'another agent', 'assigned', act([])],
  ['assigned', 'an admin', 'assigned', act(['close', 'release', 'reassign'])],
  ['closed', 'owner', null, act([])],
  ['closed', 'another agent', null, act([])],
  ['closed', 'an admin', null, act([])],
];

describe('badge and actions for the viewer', () => {
  it.each(table)('ticket %s, viewer is %s → badge %s', (state, viewer, badge, actions) => {
    expect(badgeFor(tickets[state], viewers[viewer].id)).toBe(badge);
    expect(actionsFor(tickets[state], viewers[viewer])).toEqual(actions);
  });

  it('an admin who owns the ticket gets the owner’s badge and every action on it', () => {
    const adminOwner: Viewer = { id: owner, role: 'admin' };
    expect(badgeFor(tickets.assigned, adminOwner.id)).toBe('assigned_to_you');
    expect(actionsFor(tickets.assigned, adminOwner)).toEqual(act(['reply', 'close', 'release', 'reassign']));
  });

  describe('computed from the conversation the events fold to', () => {
    const streams = { none: noTicket, open: openTicket, assigned: () => assignedTo(alice), closed: () => closedTicket(alice) };

    it.each(table)('ticket %s, viewer is %s → badge %s', (state, viewer, badge, actions) => {
      const ticket = given(streams[state]()).state?.ticket ?? null;
      expect(badgeFor(ticket, viewers[viewer].id)).toBe(badge);
      expect(actionsFor(ticket, viewers[viewer])).toEqual(actions);
    });
  });
});

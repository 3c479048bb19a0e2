/**
 * SPEC §2 Ticket lifecycle: "Take over: allowed only while the ticket is OPEN, by any employee
 * of the property. [...] every other gets a conflict answer naming the current owner.
 * Never two owners."
 */
import { describe, it, expect } from '@jest/globals';
import { takeOver } from '../../src/domain/conversation.js';
import { given } from './given-when-then.js';
import { alice, assignedTo, at, bob, closedTicket, noTicket, openTicket, takenOverBy, told } from './fixtures.js';

describe('taking over a ticket', () => {
  it('of an OPEN ticket makes the employee its owner, and the guest is told who joined', () => {
    given(openTicket())
      .when((state) => takeOver(state, { employee: alice, at: at(10) }))
      .then([
        { type: 'TicketTakenOver', data: { ticketId: 'ticket-1', employeeId: alice.id, employeeName: alice.name, at: at(10) } },
        told.joined('Alice', 10),
      ]);
  });

  it('leaves the ticket ASSIGNED to that employee', () => {
    expect(given(assignedTo(alice)).state?.ticket).toMatchObject({
      id: 'ticket-1',
      status: 'assigned',
      ownerId: alice.id,
      ownerName: alice.name,
    });
  });

  it('of a ticket ASSIGNED to someone else is a conflict naming the owner (id and name)', () => {
    given(assignedTo(alice))
      .when((state) => takeOver(state, { employee: bob, at: at(10) }))
      .thenThrows('conflict', 'already_assigned', {
        ticketStatus: 'assigned',
        owner: { id: alice.id, name: alice.name },
      });
  });

  it('the conflict message names the owner, too', () => {
    const state = given(assignedTo(alice)).state;
    expect(() => takeOver(state, { employee: bob, at: at(10) })).toThrow(/Alice/);
  });

  it('by its owner again is a conflict: already assigned to you', () => {
    given(assignedTo(alice))
      .when((state) => takeOver(state, { employee: alice, at: at(10) }))
      .thenThrows('conflict', 'already_assigned_to_you', {
        ticketStatus: 'assigned',
        owner: { id: alice.id, name: alice.name },
      });
  });

  it('when two employees race, the loser decides against the winner’s event: never two owners', () => {
    // Both decided on the OPEN ticket; the store appends Alice's event first, so Bob's
    // command is retried against the new stream version and refused.
    given([...openTicket(), takenOverBy(alice)])
      .when((state) => takeOver(state, { employee: bob, at: at(10) }))
      .thenThrows('conflict', 'already_assigned', { owner: { id: alice.id, name: alice.name } });
  });

  it('with no ticket is a conflict: no open ticket', () => {
    given(noTicket())
      .when((state) => takeOver(state, { employee: alice, at: at(10) }))
      .thenThrows('conflict', 'no_open_ticket', { ticketStatus: 'none' });
  });

  it('of a CLOSED ticket is a conflict: no open ticket', () => {
    given(closedTicket(alice))
      .when((state) => takeOver(state, { employee: bob, at: at(10) }))
      .thenThrows('conflict', 'no_open_ticket', { ticketStatus: 'closed' });
  });

  it('in an unknown conversation is not found', () => {
    given([])
      .when((state) => takeOver(state, { employee: alice, at: at(10) }))
      .thenThrows('not_found', 'conversation_not_found');
  });
});

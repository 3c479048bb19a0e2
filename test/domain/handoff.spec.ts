/**
 * SPEC §2 Ticket lifecycle, the hand-offs:
 *   OPEN     --an employee takes it over or replies-->  ASSIGNED(to that employee)
 *   OPEN     --an admin reassigns it-->                 ASSIGNED(to the named employee)
 *   ASSIGNED --its owner or an admin releases it-->     OPEN
 *   ASSIGNED --an admin reassigns it-->                 ASSIGNED(to the named employee)
 *   ASSIGNED --its owner or an admin closes it-->       CLOSED
 * and "the guest is told" each step, in the same decision, never with an employee id.
 */
import { describe, expect, it } from '@jest/globals';
import { close, reply, takeOver, type ConversationEvent, type Employee } from '../../src/domain/conversation.js';
import { reassign, release } from '../../src/domain/handoff.js';
import type { ClosureMessage } from '../../src/domain/settings.js';
import { given } from './given-when-then.js';
import {
  alice,
  asAdmin,
  asAgent,
  assignedTo,
  at,
  bob,
  closedTicket,
  grace,
  noTicket,
  openTicket,
  reassignedTo,
  releasedBy,
  takenOverBy,
  told,
} from './fixtures.js';

const replyOf = (employee: Employee) => ({
  employee,
  messageId: 'msg-1',
  text: 'Hi, how can I help?',
  at: at(20),
});
const replied = (employee: Employee): ConversationEvent => ({
  type: 'EmployeeReplied',
  data: { ticketId: 'ticket-1', messageId: 'msg-1', employeeId: employee.id, employeeName: employee.name, text: 'Hi, how can I help?', at: at(20) },
});
const takenOver = (employee: Employee, minute: number): ConversationEvent => ({
  type: 'TicketTakenOver',
  data: { ticketId: 'ticket-1', employeeId: employee.id, employeeName: employee.name, at: at(minute) },
});

describe('replying to an OPEN ticket', () => {
  it('takes it over and sends the message in one decision: take-over, the guest is told who joined, the reply', () => {
    given(openTicket())
      .when((state) => reply(state, replyOf(bob)))
      .then([takenOver(bob, 20), told.joined('Bob', 20), replied(bob)]);
  });

  it('leaves the ticket ASSIGNED to the replier', () => {
    const events = [...openTicket(), ...reply(given(openTicket()).state, replyOf(bob))];
    expect(given(events).state?.ticket).toMatchObject({ status: 'assigned', ownerId: bob.id, ownerName: 'Bob' });
  });

  it('is open to admins too (they take it over by replying)', () => {
    given(openTicket())
      .when((state) => reply(state, replyOf(grace)))
      .then([takenOver(grace, 20), told.joined('Grace', 20), replied(grace)]);
  });

  it('that lost the race (decided again after a take-over was appended first) is a conflict naming the winner', () => {
    given([...openTicket(), takenOverBy(alice)])
      .when((state) => reply(state, replyOf(bob)))
      .thenThrows('conflict', 'assigned_to_another_employee', { ticketStatus: 'assigned', owner: { id: alice.id, name: alice.name } });
  });

  it('a take-over that lost to a reply gets the same conflict', () => {
    const aliceReplied = [...openTicket(), takenOver(alice, 20), told.joined('Alice', 20), replied(alice)];
    given(aliceReplied)
      .when((state) => takeOver(state, { employee: bob, at: at(21) }))
      .thenThrows('conflict', 'already_assigned', { owner: { id: alice.id, name: alice.name } });
  });
});

describe('replying to an ASSIGNED ticket', () => {
  it('by another employee is a conflict naming the owner (the ticket is someone else’s now)', () => {
    given(assignedTo(alice))
      .when((state) => reply(state, replyOf(bob)))
      .thenThrows('conflict', 'assigned_to_another_employee', { ticketStatus: 'assigned', owner: { id: alice.id, name: alice.name } });
  });

  it('by an admin who does not own it is refused too (admins release or reassign instead)', () => {
    given(assignedTo(alice))
      .when((state) => reply(state, replyOf(grace)))
      .thenThrows('conflict', 'assigned_to_another_employee', { owner: { id: alice.id } });
  });
});

describe('releasing a ticket', () => {
  it('by its owner puts it back in the queue and tells the guest', () => {
    given(assignedTo(alice))
      .when((state) => release(state, { employee: asAgent(alice), at: at(30) }))
      .then([
        { type: 'TicketReleased', data: { ticketId: 'ticket-1', previousOwnerId: alice.id, releasedBy: alice, at: at(30) } },
        told.released(30),
      ]);
  });

  it('by an admin records the admin as who released it', () => {
    given(assignedTo(alice))
      .when((state) => release(state, { employee: asAdmin(grace), at: at(30) }))
      .then([
        { type: 'TicketReleased', data: { ticketId: 'ticket-1', previousOwnerId: alice.id, releasedBy: grace, at: at(30) } },
        told.released(30),
      ]);
  });

  it('leaves the ticket OPEN without an owner, so anyone may take it over again', () => {
    const released = [...assignedTo(alice), releasedBy(alice, alice)];
    expect(given(released).state?.ticket).toMatchObject({ id: 'ticket-1', status: 'open', ownerId: null, ownerName: null });
    given(released)
      .when((state) => takeOver(state, { employee: bob, at: at(40) }))
      .then([takenOver(bob, 40), told.joined('Bob', 40)]);
  });

  it('by another agent is forbidden, naming the owner', () => {
    given(assignedTo(alice))
      .when((state) => release(state, { employee: asAgent(bob), at: at(30) }))
      .thenThrows('forbidden', 'assigned_to_another_employee', { owner: { id: alice.id, name: alice.name } });
  });

  it.each([
    ['open', openTicket()],
    ['closed', closedTicket(alice)],
    ['none', noTicket()],
  ])('of a ticket that is not assigned (%s) is a conflict with its state', (status, events) => {
    given(events)
      .when((state) => release(state, { employee: asAdmin(grace), at: at(30) }))
      .thenThrows('conflict', 'not_assigned', { ticketStatus: status });
  });

  it('in an unknown conversation is not found', () => {
    given([])
      .when((state) => release(state, { employee: asAdmin(grace), at: at(30) }))
      .thenThrows('not_found', 'conversation_not_found');
  });
});

describe('reassigning a ticket', () => {
  const toBob = (employee = asAdmin(grace), to: Employee = bob) => ({ employee, to, at: at(30) });

  it('OPEN, by an admin: assigned to the named employee, no previous owner, the guest is told who joined', () => {
    given(openTicket())
      .when((state) => reassign(state, toBob()))
      .then([
        {
          type: 'TicketReassigned',
          data: { ticketId: 'ticket-1', previousOwnerId: null, employeeId: bob.id, employeeName: 'Bob', reassignedBy: grace, at: at(30) },
        },
        told.joined('Bob', 30),
      ]);
  });

  it('ASSIGNED, by an admin: from the owner to the named employee', () => {
    given(assignedTo(alice))
      .when((state) => reassign(state, toBob()))
      .then([
        {
          type: 'TicketReassigned',
          data: { ticketId: 'ticket-1', previousOwnerId: alice.id, employeeId: bob.id, employeeName: 'Bob', reassignedBy: grace, at: at(30) },
        },
        told.joined('Bob', 30),
      ]);
  });

  it('makes the new owner the one who replies, releases and closes; the old owner is refused', () => {
    const moved = [...assignedTo(alice), reassignedTo(bob, grace, alice)];
    expect(given(moved).state?.ticket).toMatchObject({ status: 'assigned', ownerId: bob.id, ownerName: 'Bob' });
    given(moved).when((state) => reply(state, replyOf(bob))).then([replied(bob)]);
    given(moved)
      .when((state) => reply(state, replyOf(alice)))
      .thenThrows('conflict', 'assigned_to_another_employee', { owner: { id: bob.id, name: 'Bob' } });
    given(moved)
      .when((state) => release(state, { employee: asAgent(bob), at: at(40) }))
      .then([{ type: 'TicketReleased', data: { ticketId: 'ticket-1', previousOwnerId: bob.id, releasedBy: bob, at: at(40) } }, told.released(40)]);
  });

  it('by an agent is forbidden: admins only', () => {
    given(openTicket())
      .when((state) => reassign(state, toBob(asAgent(alice))))
      .thenThrows('forbidden', 'admin_only');
    given(assignedTo(alice))
      .when((state) => reassign(state, toBob(asAgent(alice))))
      .thenThrows('forbidden', 'admin_only');
  });

  it('to its current owner is a conflict naming the owner', () => {
    given(assignedTo(bob))
      .when((state) => reassign(state, toBob()))
      .thenThrows('conflict', 'already_assigned_to_employee', { ticketStatus: 'assigned', owner: { id: bob.id, name: 'Bob' } });
  });

  it.each([
    ['closed', closedTicket(alice)],
    ['none', noTicket()],
  ])('of a ticket that is not active (%s) is a conflict', (status, events) => {
    given(events).when((state) => reassign(state, toBob())).thenThrows('conflict', 'no_active_ticket', { ticketStatus: status });
  });

  it('to an employee known only by id tells the guest "A colleague", never the id', () => {
    const nameless: Employee = { id: 'emp-7731', name: 'emp-7731' };
    const events = reassign(given(openTicket()).state, toBob(asAdmin(grace), nameless));
    expect(events[1]).toEqual(told.joined('A colleague', 30));
  });
});

describe('closing a ticket as an admin', () => {
  const thanks: ClosureMessage = { enabled: true, text: 'Grace here: thanks, enjoy your stay!' };
  const byGrace = { employee: asAdmin(grace), closureMessage: thanks, closureMessageId: 'msg-closure', chatMode: 'hybrid' as const, at: at(50) };
  const closedByGrace = (): ConversationEvent[] => [
    { type: 'TicketClosed', data: { ticketId: 'ticket-1', employeeId: grace.id, closedBy: grace, at: at(50) } },
    { type: 'ClosureMessageSent', data: { ticketId: 'ticket-1', messageId: 'msg-closure', employeeId: grace.id, text: thanks.text, at: at(50) } },
    { type: 'AiRepliesResumed', data: { ticketId: 'ticket-1', chatMode: 'hybrid', at: at(50) } },
    told.closed(true, 50),
  ];

  it('closes a ticket someone else owns, with the admin’s own closure message', () => {
    given(assignedTo(alice)).when((state) => close(state, byGrace)).then(closedByGrace());
  });

  it('closes an OPEN ticket nobody took', () => {
    given(openTicket()).when((state) => close(state, byGrace)).then(closedByGrace());
  });

  it('keeps who owned it on the closed ticket', () => {
    const events = [...assignedTo(alice), ...close(given(assignedTo(alice)).state, byGrace)];
    expect(given(events).state?.ticket).toMatchObject({ status: 'closed', ownerId: alice.id });
  });

  it('a closed ticket cannot be closed again, even by an admin', () => {
    given(closedTicket(alice)).when((state) => close(state, byGrace)).thenThrows('conflict', 'no_active_ticket', { ticketStatus: 'closed' });
  });
});

describe('what the guest is told', () => {
  it('names the employee who joined, or "A colleague" for a token without a name', () => {
    given(openTicket())
      .when((state) => takeOver(state, { employee: { id: 'emp-42', name: 'emp-42' }, at: at(10) }))
      .then([takenOver({ id: 'emp-42', name: 'emp-42' }, 10), told.joined('A colleague', 10)]);
  });

  it('never carries an employee id, through a whole take-over, release, reassign and close', () => {
    let events: ConversationEvent[] = openTicket();
    const step = (decide: (s: ReturnType<typeof given>['state']) => ConversationEvent[]) => {
      events = [...events, ...decide(given(events).state)];
    };
    step((s) => reply(s, replyOf(alice)));
    step((s) => release(s, { employee: asAgent(alice), at: at(30) }));
    step((s) => reassign(s, { employee: asAdmin(grace), to: bob, at: at(31) }));
    step((s) => close(s, { employee: asAgent(bob), closureMessage: { enabled: false, text: '' }, closureMessageId: 'c', chatMode: 'off', at: at(32) }));
    const notices = events.filter((e) => e.type === 'GuestNotified');
    expect(notices.map((e) => e.type === 'GuestNotified' && e.data.text)).toEqual([
      'Alice has joined the chat.',
      'You are back in the queue; a colleague will join shortly.',
      'Bob has joined the chat.',
      'This chat has ended.',
    ]);
    const text = JSON.stringify(notices);
    for (const id of [alice.id, bob.id, grace.id]) expect(text).not.toContain(id);
  });
});

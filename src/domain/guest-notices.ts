/**
 * SPEC §2 "The guest is told": what a guest reads when a ticket opens, an employee joins, the
 * ticket goes back to the queue or the chat ends. Each notice is built inside the decision
 * that makes the change, so it is appended with — never apart from — the event it narrates.
 */
import type { ConversationEvent, Employee } from './conversation.js';

export type GuestNoticeKind = 'ticket_opened' | 'employee_joined' | 'ticket_released' | 'ticket_closed';

export interface GuestNotice {
  notice: GuestNoticeKind;
  text: string;
  /** employee_joined: the name the guest sees (never an id). */
  employeeName?: string;
  /** ticket_closed: whether AVA answers again. */
  aiResumed?: boolean;
  at: string;
}

const notified = (data: GuestNotice): ConversationEvent => ({ type: 'GuestNotified', data });

/**
 * The name a guest may see. A token without a `name` claim yields the employee id as the name
 * (and a reassign may know no better): a guest then reads "A colleague", never the id.
 */
export function guestSafeName(employee: { id: string | null; name: string | null }): string {
  const name = employee.name?.trim() ?? '';
  return name.length > 0 && name !== employee.id ? name : 'A colleague';
}

export const guestNotified = {
  ticketOpened: (at: string) => notified({ notice: 'ticket_opened', text: 'A colleague will join shortly.', at }),
  employeeJoined: (employee: Employee, at: string) => {
    const employeeName = guestSafeName(employee);
    return notified({ notice: 'employee_joined', text: `${employeeName} has joined the chat.`, employeeName, at });
  },
  ticketReleased: (at: string) =>
    notified({ notice: 'ticket_released', text: 'You are back in the queue; a colleague will join shortly.', at }),
  ticketClosed: (aiResumed: boolean, at: string) =>
    notified({
      notice: 'ticket_closed',
      text: aiResumed ? 'This chat has ended. AVA, our assistant, is back to help.' : 'This chat has ended.',
      aiResumed,
      at,
    }),
};

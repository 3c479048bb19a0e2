/**
 * The embedded demo: a hotel with two agents and an admin. Seeded once, through the same
 * commands the API uses, when the store is empty. Property settings stay at their defaults
 * so the README's walk-through shows a declined request before the admin switches hybrid on.
 */
import type { CommandBus } from '@nestjs/cqrs';
import { ChangePersonalSettings } from '../application/commands/employee-commands.js';
import { PostGuestMessage } from '../application/commands/post-guest-message.js';
import { RegisterProperty } from '../application/commands/register-property.js';
import { StartConversation } from '../application/commands/start-conversation.js';
import type { EmployeePrincipal } from '../adapters/http/auth/principal.js';

export const DEMO_PROPERTY = 'hotel-aurora';
/** Grace is also the demo's service operator (`ops`), so the README's projections/rebuild walk-through works. */
export const DEMO_EMPLOYEES: Array<Omit<EmployeePrincipal, 'kind'>> = [
  { id: 'alice', name: 'Alice (front desk)', role: 'agent', propertyId: DEMO_PROPERTY, ops: false },
  { id: 'bob', name: 'Bob (concierge)', role: 'agent', propertyId: DEMO_PROPERTY, ops: false },
  { id: 'grace', name: 'Grace (manager)', role: 'admin', propertyId: DEMO_PROPERTY, ops: true },
];

export async function seedDemo(commands: CommandBus): Promise<string> {
  const at = new Date().toISOString();
  // Known, so its guests may start conversations (domain/property.ts), as `properties add` does.
  await commands.execute(new RegisterProperty(DEMO_PROPERTY, 'cli', 'operator', at));
  await commands.execute(
    new ChangePersonalSettings(
      DEMO_PROPERTY,
      'alice',
      { incomingSupportRequests: true, assignedChatActivity: true, closureMessage: { enabled: true, text: 'Thanks for chatting with us — AVA is here if you need anything else!' } },
      'seed-alice',
      at,
      'agent',
    ),
  );
  await commands.execute(new ChangePersonalSettings(DEMO_PROPERTY, 'bob', { incomingSupportRequests: true }, 'seed-bob', at, 'agent'));
  // Grace keeps the defaults; saving them records her role, so escalation alerts reach her.
  await commands.execute(new ChangePersonalSettings(DEMO_PROPERTY, 'grace', {}, 'seed-grace', at, 'admin'));
  const started = await commands.execute(new StartConversation(DEMO_PROPERTY, 'Maria Rossi', 'seed-conversation', at));
  await commands.execute(new PostGuestMessage(started.conversation.id, DEMO_PROPERTY, 'Hi! Is breakfast included in my booking?', 'seed-message', at));
  return started.conversation.id;
}

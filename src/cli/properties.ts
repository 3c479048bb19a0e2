/**
 * `properties add <propertyId...>` makes a property known (domain/property.ts): anonymous guests
 * may start conversations for it from then on, on every instance at once. `properties list`
 * shows every known property (it reads the whole log). Runs on the core module only.
 */
import { CommandBus } from '@nestjs/cqrs';
import { RegisterProperty } from '../application/commands/register-property.js';
import { KnownProperties } from '../application/queries/known-properties.js';
import { CliError, withCore } from './context.js';

/** As the API accepts a propertyId (StartConversationBody): 1–100 characters; here also no control characters or outer spaces. */
const isPropertyId = (id: string) => id.length >= 1 && id.length <= 100 && id.trim() === id && !/[\p{Cc}\p{Cf}]/u.test(id);

export async function addProperties(propertyIds: string[]): Promise<void> {
  const bad = propertyIds.find((id) => !isPropertyId(id));
  if (bad !== undefined) {
    throw new CliError(`a property id is 1-100 characters, without control characters or surrounding spaces (got ${JSON.stringify(bad)})`);
  }
  await withCore(async ({ app }) => {
    const commands = app.get(CommandBus);
    for (const propertyId of propertyIds) {
      const result = await commands.execute(new RegisterProperty(propertyId, 'cli', 'operator', new Date().toISOString()));
      console.log(result.registered ? `added property ${propertyId}` : `property ${propertyId} is known already: nothing changed`);
    }
  });
}

export async function listProperties(options: { json?: boolean }): Promise<void> {
  await withCore(async ({ app }) => {
    const properties = await app.get(KnownProperties).list();
    if (options.json) {
      console.log(JSON.stringify(properties, null, 2));
      return;
    }
    if (properties.length === 0) console.log('no known property yet: add one with `live-chat-tickets properties add <propertyId>`');
    for (const p of properties) console.log(`${p.propertyId}  (${p.source === 'settings' ? 'settings saved' : p.source === 'cli' ? 'added' : 'admin saved a setting'} ${p.at})`);
  });
}

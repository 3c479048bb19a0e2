/** `diagnostics`: the troubleshooting checks for one employee about one conversation, as the API answers them. */
import { conversationStream } from '../domain/conversation.js';
import { DiagnosticsQueries } from '../application/queries/diagnostics.queries.js';
import { CliError, withCore } from './context.js';

export async function diagnostics(conversationId: string, options: { employee: string; role?: string; name?: string; json?: boolean }): Promise<void> {
  const role = options.role ?? 'agent';
  if (role !== 'agent' && role !== 'admin') throw new CliError(`--role must be agent or admin (got "${role}")`);
  await withCore(async ({ adapters, app }) => {
    const first = (await adapters.eventStore.readStream(conversationStream(conversationId)))[0];
    if (!first) throw new CliError(`conversation ${conversationId} not found`);
    const result = await app
      .get(DiagnosticsQueries)
      .diagnostics(first.metadata.propertyId, { id: options.employee, name: options.name ?? options.employee, role }, conversationId);
    if (options.json) {
      console.log(JSON.stringify(result, null, 2));
      return;
    }
    for (const [id, question] of Object.entries(result.questions)) {
      console.log(`${question.ok ? 'ok  ' : 'FAIL'} ${id}: ${question.title}`);
      for (const c of question.checks) {
        const mark = c.ok === true ? '  ✓' : c.ok === false ? '  ✗' : '  ?';
        console.log(`${mark} ${c.id} = ${JSON.stringify(c.observed)}${c.fix ? `\n      fix: ${c.fix}` : ''}`);
      }
    }
  });
}

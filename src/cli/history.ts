/** `history` (one conversation, or its state as of a time) and `export` (the whole log as NDJSON). */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { SingleBar } from 'cli-progress';
import { conversationStream } from '../domain/conversation.js';
import { HistoryQueries, historyEntry } from '../application/queries/history.queries.js';
import { CliError, withCore } from './context.js';

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;

export async function history(conversationId: string, options: { at?: string; ndjson?: boolean }): Promise<void> {
  if (options.at !== undefined && (!RFC3339.test(options.at) || Number.isNaN(Date.parse(options.at)))) {
    throw new CliError(`--at must be an RFC 3339 date-time, e.g. 2026-11-25T16:30:00Z (got "${options.at}")`);
  }
  await withCore(async ({ adapters, app }) => {
    // The operator sees every property: the property is the conversation's own.
    const events = await adapters.eventStore.readStream(conversationStream(conversationId));
    if (events.length === 0) throw new CliError(`conversation ${conversationId} not found`);
    const propertyId = events[0]!.metadata.propertyId;
    if (options.at !== undefined) {
      console.log(JSON.stringify(await app.get(HistoryQueries).stateAt(propertyId, conversationId, new Date(options.at)), null, 2));
    } else if (options.ndjson) {
      for (const e of events) console.log(JSON.stringify(historyEntry(e)));
    } else {
      console.log(JSON.stringify({ conversationId, propertyId, events: events.map(historyEntry) }, null, 2));
    }
  });
}

/** Every event of the log, in order, one JSON line each, to `--out` (or stdout); progress on stderr. */
export async function exportLog(options: { out?: string; batch?: string }): Promise<void> {
  const batchSize = Number(options.batch ?? 1000);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) throw new CliError('--batch must be 1..10000');
  await withCore(async ({ adapters }) => {
    const head = await adapters.eventStore.headPosition();
    const out: Writable = options.out ? createWriteStream(options.out) : process.stdout;
    const bar = new SingleBar({ format: 'export [{bar}] {percentage}% | {value}/{total} | {eta_formatted} left', stream: process.stderr, noTTYOutput: false });
    bar.start(Number(head ?? 0n), 0);
    let after: bigint | null = null;
    let count = 0;
    for (;;) {
      const batch = await adapters.eventStore.readAll(after, batchSize);
      if (batch.length === 0) break;
      const chunk = batch.map((e) => JSON.stringify({ streamId: e.streamId, ...historyEntry(e) })).join('\n') + '\n';
      if (!out.write(chunk)) await once(out, 'drain');
      after = batch[batch.length - 1]!.position;
      count += batch.length;
      bar.update(Number(after));
      if (head !== null && after >= head) break;
    }
    bar.stop();
    if (options.out) {
      out.end();
      await once(out, 'finish');
    }
    process.stderr.write(`exported ${count} events\n`);
  });
}

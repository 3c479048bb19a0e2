/**
 * SIGTERM stops a busy production projector at a checkpoint within the 5 s the SPEC gives a
 * shutdown (Operability), on FerretDB, where one large batch takes longer than that to write:
 * the batch in flight is cut between bulk writes and its checkpoint is not written. A restarted
 * projector continues from the stored checkpoint, and what it builds equals a rebuild from the
 * log: nothing lost, nothing applied twice.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { MongoReadModelStore } from '../../src/adapters/mongo/mongo-read-model-store.js';
import { SqliteEventStore } from '../../src/adapters/sqlite/sqlite-event-store.js';
import { GROUP_CHECKPOINT } from '../../src/application/processing/projector.js';
import { client, eventually } from '../support/http.js';
import { productionMode } from '../support/ferretdb.js';
import { type ServerProcess, exited } from '../support/processes.js';
import { compareStoresWithRebuild } from '../support/rebuild.js';

/** The SPEC's shutdown bound; the process's own hard timer exits 1 when it is reached. */
const SHUTDOWN_MS = 5000;
/** Margin for signal delivery and process exit on a loaded 2-core machine (not part of the contract). */
const MARGIN_MS = 2000;

describe('SIGTERM of a busy projector on FerretDB', () => {
  const stores = productionMode('lct-sigterm');
  const { mongoUrl } = stores;
  let api: ServerProcess;
  let projector: ServerProcess | null = null;

  const storedCheckpoint = async () => {
    const raw = new MongoClient(mongoUrl, { serverSelectionTimeoutMS: 5000, useBigInt64: true });
    try {
      const doc = await raw.db().collection<{ _id: string; position: bigint }>('checkpoints').findOne({ _id: GROUP_CHECKPOINT });
      return doc?.position ?? null;
    } finally {
      await raw.close();
    }
  };

  beforeAll(async () => {
    api = await stores.start('api');
  }, 60000);

  it('exits 0 within 5 s, at a checkpoint that a restart continues from', async () => {
    // A backlog with no projector running: conversations with messages, several events each.
    const http = client(api.url);
    const guest = async (g: number) => {
      const started = await http.post('/v1/guest/conversations', undefined, { propertyId: 'hotel-a', guestName: `Guest ${g}` });
      expect(started.status).toBe(201);
      for (let m = 0; m < 3; m++) {
        await http.post(`/v1/guest/conversations/${started.body.conversationId}/messages`, started.body.guestToken, { text: `message ${m}` });
      }
    };
    for (let g = 0; g < 120; g += 12) await Promise.all(Array.from({ length: 12 }, (_, i) => guest(g + i)));
    const events = new SqliteEventStore(join(stores.dir, 'events.db'));
    try {
      const head = (await events.headPosition())!;
      expect(head).toBeGreaterThan(400n);

      // Answering /health means its consumers have started (a lone lease holder starts its work
      // before the process listens): it is busy with the first batches of the backlog.
      projector = await stores.start('projector,worker');

      const t0 = Date.now();
      const exit = exited(projector.child);
      projector.child.kill('SIGTERM');
      await exit;
      const tookMs = Date.now() - t0;
      // Exit code 0: closed by itself, not by the 5 s hard timer (which exits 1).
      expect(projector.child.exitCode).toBe(0);
      expect(tookMs).toBeLessThan(SHUTDOWN_MS + MARGIN_MS);

      // Not asserted: that the batch was still in flight (at this backlog the projector may be
      // done by the time the process answers /health; see the lead's note on issue #10).

      const restarted = await stores.start('projector,worker', {}, { captureStdout: true });
      projector = restarted;
      let seen: { checkpoint: bigint | null; head: bigint | null } = { checkpoint: null, head: null };
      await eventually(
        async () => {
          seen = { checkpoint: await storedCheckpoint(), head: await events.headPosition() };
          return seen.checkpoint === seen.head ? true : undefined;
        },
        // Generous: FerretDB applies ~100 document writes/s, and other suites share it in CI.
        240000,
        'the restarted projector to reach the head',
      ).catch((error: Error) => {
        // What the restarted projector said is the only clue to why it did not get there.
        const tail = (text: string) => text.split('\n').slice(-40).join('\n');
        throw new Error(`${error.message}: checkpoint ${seen.checkpoint}, head ${seen.head}\n--- stdout\n${tail(restarted.stdout())}\n--- stderr\n${tail(restarted.stderr())}`);
      });

      const live = await MongoReadModelStore.connect(mongoUrl);
      try {
        const { live: liveDocs, rebuilt } = await compareStoresWithRebuild(events, live);
        expect(Object.values(liveDocs).some((docs) => docs.length > 0)).toBe(true);
        expect(liveDocs).toEqual(rebuilt);
      } finally {
        await live.close();
      }
    } finally {
      await events.close();
    }
  }, 420000);
});

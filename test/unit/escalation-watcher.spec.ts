/**
 * The escalation watcher's two halves on a real SQLite read-model store, with a controllable
 * clock and a recording command bus: due times from the log (redelivery harmless, settings
 * recompute pending waits), and a tick that executes exactly what is due by the clock, once
 * per due doc until the log marks it done.
 */
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Logger } from '@nestjs/common';
import type { CommandBus } from '@nestjs/cqrs';
import { SqliteReadModelStore } from '../../src/adapters/sqlite/sqlite-read-model-store.js';
import { EscalateTicket } from '../../src/application/commands/escalate-ticket.js';
import type { Clock } from '../../src/application/ports/clock.js';
import type { StoredEvent } from '../../src/application/ports/event-store.js';
import { ESCALATION_DUES, type EscalationDueDoc, EscalationWatcher } from '../../src/application/processing/escalation-watcher.js';
import { tempDir } from '../support/temp-dir.js';

Logger.overrideLogger(false);
const tmp = tempDir('lct-escalation-watcher-');
afterAll(() => tmp.cleanup());

const T0 = Date.parse('2030-01-01T12:00:00.000Z');
const iso = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();
const propertyId = 'hotel-w';

let position = 0n;
function event(streamId: string, type: string, data: object): StoredEvent {
  position += 1n;
  return {
    id: `e-${position}`,
    type,
    streamId,
    revision: 0n,
    position,
    data,
    metadata: { propertyId, commandId: `c-${position}`, actor: { kind: 'system', id: 'test' } },
    recordedAt: new Date(),
  };
}
const conv = (id: string) => `conversation-${id}`;
const settingsChanged = (escalateAfterMinutes: number | null, minute = 0) =>
  event(`propertySettings-${propertyId}`, 'EscalationSettingsChanged', { escalateAfterMinutes, changedBy: 'boss', at: iso(minute) });
const opened = (id: string, minute: number) => event(conv(id), 'TicketOpened', { ticketId: `t-${id}`, origin: 'guest', at: iso(minute) });
const takenOver = (id: string, minute: number) =>
  event(conv(id), 'TicketTakenOver', { ticketId: `t-${id}`, employeeId: 'pat', employeeName: 'Pat', at: iso(minute) });
const escalated = (id: string, since: number, minute: number) =>
  event(conv(id), 'TicketEscalated', { ticketId: `t-${id}`, reason: 'open_unattended', waitingSince: iso(since), escalateAfterMinutes: 5, at: iso(minute) });

describe('EscalationWatcher', () => {
  let store: SqliteReadModelStore;
  let now = T0;
  let executed: EscalateTicket[];
  let watcher: EscalationWatcher;
  const clock: Clock = { now: () => new Date(now) };
  let n = 0;

  beforeEach(async () => {
    store = new SqliteReadModelStore(join(tmp.dir, `rm-${n++}.db`));
    executed = [];
    now = T0;
    const bus = { execute: async (cmd: EscalateTicket) => (executed.push(cmd), { escalated: true, replayed: false, position: null }) };
    watcher = new EscalationWatcher(store, clock, bus as unknown as CommandBus);
    await watcher.prepare();
  });

  /** What the consumer does with a batch: handle, then commit the writes with the checkpoint. */
  async function apply(batch: StoredEvent[]) {
    const writes = await watcher.handle(batch);
    await store.commit(watcher.checkpoint, writes, batch[batch.length - 1]!.position);
    return writes;
  }
  const doc = (id: string) => store.get<EscalationDueDoc>(ESCALATION_DUES, id);

  it('keeps the due time from the event time, and escalates only when the clock reaches it', async () => {
    await apply([settingsChanged(5), opened('a', 0), opened('b', 1)]);
    expect((await doc('a'))).toMatchObject({ pending: true, dueAt: T0 + 5 * 60_000, wait: { reason: 'open_unattended', since: iso(0) } });

    now = T0 + 5 * 60_000 - 1;
    await watcher.tick();
    expect(executed).toEqual([]);

    now = T0 + 5 * 60_000;
    await watcher.tick();
    expect(executed.map((c) => [c.conversationId, c.ticketId, c.reason, c.waitingSince, c.at])).toEqual([['a', 't-a', 'open_unattended', iso(0), iso(5)]]);

    // Until the log says it escalated, the tick does not execute the same due doc again.
    await watcher.tick();
    expect(executed).toHaveLength(1);
    await apply([escalated('a', 0, 5)]);
    expect(await doc('a')).toMatchObject({ pending: false, dueAt: null, wait: { escalated: true } });
    now = T0 + 60 * 60_000;
    await watcher.tick();
    expect(executed.map((c) => c.conversationId)).toEqual(['a', 'b']);
  });

  it('a redelivered batch changes nothing (the _pos guard), a take-over cancels the due time', async () => {
    const batch = [settingsChanged(5), opened('a', 0), takenOver('a', 1)];
    await apply(batch);
    const first = await doc('a');
    expect(first).toMatchObject({ status: 'assigned', wait: null, pending: false, dueAt: null });
    expect(await watcher.handle(batch)).toEqual([]);
    expect(await doc('a')).toEqual(first);
    now = T0 + 60 * 60_000;
    await watcher.tick();
    expect(executed).toEqual([]);
  });

  it('a settings change recomputes pending waits; null switches them off, a value on again', async () => {
    await apply([opened('a', 0)]);
    expect(await doc('a')).toMatchObject({ pending: true, dueAt: null }); // off by default
    await apply([settingsChanged(10, 2)]);
    expect((await doc('a'))!.dueAt).toBe(T0 + 10 * 60_000);
    await apply([settingsChanged(null, 3), opened('b', 3)]);
    expect((await doc('a'))!.dueAt).toBeNull();
    expect((await doc('b'))!.dueAt).toBeNull();
    await apply([settingsChanged(3, 4)]);
    expect([(await doc('a'))!.dueAt, (await doc('b'))!.dueAt]).toEqual([T0 + 3 * 60_000, T0 + 6 * 60_000]);
  });

  it('ticks on its own: every second, and at once after a batch that makes something due', async () => {
    watcher.options.tickEveryMs = 60_000; // only the batch can wake it within this test
    let committed: bigint | null = null;
    watcher.startTicking(() => committed);
    try {
      now = T0 + 30 * 60_000; // the clock is far ahead of the events: due as soon as recorded
      const batch = [settingsChanged(5), opened('a', 0)];
      const writes = await watcher.handle(batch);
      await store.commit(watcher.checkpoint, writes, batch[1]!.position);
      committed = batch[1]!.position;
      const deadline = Date.now() + 5000;
      while (executed.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      expect(executed.map((c) => c.conversationId)).toEqual(['a']);
    } finally {
      await watcher.stopTicking();
    }
  });
});

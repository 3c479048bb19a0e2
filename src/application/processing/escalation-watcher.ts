/**
 * Escalation of unattended tickets (SPEC §2): decided from the log, never by a timer a restart
 * loses. Two halves, run together under one lease (workers.module):
 *
 * 1. A log processor (checkpoint `escalation-watcher@1`) that keeps, per conversation, what its
 *    current ticket waits for and when that wait becomes due (`dueAt`, epoch ms), in its own
 *    collection, written with the returned DocWrites, i.e. committed with its checkpoint. It
 *    folds each conversation with the domain's `evolveEscalation` (the very function the
 *    decision uses, so both agree on every wait), and the property's `escalateAfterMinutes`
 *    from `EscalationSettingsChanged` (a change recomputes the property's pending dues; null =
 *    off: no due time). Due times come from the events' `at`, never from the clock.
 *    It starts from the START of the log: it only derives due times (no side effect), and
 *    starting at the end would never escalate tickets already open when it was deployed. A
 *    replay cannot repeat an escalation: an escalated wait is marked so by its
 *    `TicketEscalated` event in the log.
 * 2. A tick (every second, and as soon as a committed batch changed due times) that asks the
 *    clock for now, finds the docs with `dueAt <= now` and executes `EscalateTicket` for each:
 *    the decision re-checks the wait on the conversation's own stream and appends
 *    `TicketEscalated` with a command id per ticket and wait. The due doc is marked done
 *    (`wait.escalated`, no `dueAt`) when this processor applies that event, in log order with
 *    the `_pos` guard, like every other change of the doc. Until then the tick does not retry a
 *    doc it already executed for (unchanged `_pos`); after a crash in that window it executes
 *    once more, and the command id makes that a no-op. So a restart neither loses nor repeats.
 */
import { Inject, Injectable, Logger } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { type EscalationView, dueAt, evolveEscalation } from '../../domain/escalation.js';
import { EscalateTicket } from '../commands/escalate-ticket.js';
import type { Clock } from '../ports/clock.js';
import type { EventStore, Position, StoredEvent } from '../ports/event-store.js';
import type { Doc, DocWrite, ReadModelStore } from '../ports/read-models.js';
import { CLOCK, READ_MODELS } from '../ports/tokens.js';
import { sleepUnlessAborted } from '../sleep.js';
import { findByIn } from './find-by-in.js';
import { LogConsumer, type LogProcessor } from './log-consumer.js';

const VERSION = 1;
/** Per conversation: its current ticket's wait and due time. */
export const ESCALATION_DUES = `escalationDues_v${VERSION}`;
/** Per property: `escalateAfterMinutes` as of the processed log. */
export const ESCALATION_SETTINGS = `escalationSettings_v${VERSION}`;

export interface EscalationDueDoc extends Doc, EscalationView {
  conversationId: string;
  /** A wait that has not escalated yet (settings changes recompute these). */
  pending: boolean;
  /** Epoch ms when the pending wait escalates; null when none, or escalation is off. */
  dueAt: number | null;
}
interface EscalationSettingsDoc extends Doc {
  escalateAfterMinutes: number | null;
}

const CONVERSATION_EVENTS: ReadonlySet<string> = new Set([
  'TicketOpened',
  'TicketReleased',
  'TicketTakenOver',
  'TicketReassigned',
  'GuestMessagePosted',
  'EmployeeReplied',
  'TicketClosed',
  'TicketEscalated',
]);
const SETTINGS_EVENT = 'EscalationSettingsChanged';
const CONVERSATION_PREFIX = 'conversation-';

export interface EscalationWatcherOptions {
  tickEveryMs: number;
  /** At most this many due docs per tick (oldest due first); the next tick takes the rest. */
  tickLimit: number;
}

export const ESCALATION_WATCHER_CHECKPOINT = `escalation-watcher@${VERSION}`;

@Injectable()
export class EscalationWatcher implements LogProcessor {
  readonly checkpoint = ESCALATION_WATCHER_CHECKPOINT;
  readonly startFrom = 'start' as const;
  private readonly logger = new Logger('EscalationWatcher');
  readonly options: EscalationWatcherOptions = { tickEveryMs: 1000, tickLimit: 200 };

  private ticking: { abort: AbortController; loop: Promise<void> } | null = null;
  private wake: (() => void) | null = null;
  /** A batch changed due times: tick once it is committed (the consumer's position reaches this). */
  private wakeAfter: Position | null = null;
  /** Due docs executed for, by id, with the `_pos` they had: not again until the doc changes. */
  private executed = new Map<string, Position>();

  constructor(
    @Inject(READ_MODELS) private readonly store: ReadModelStore,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly commands: CommandBus,
  ) {}

  async prepare(): Promise<void> {
    await this.store.ensureIndexes([
      { collection: ESCALATION_DUES, fields: { dueAt: 1 } },
      { collection: ESCALATION_DUES, fields: { propertyId: 1, pending: 1 } },
    ]);
  }

  // ---- 1. due times from the log -------------------------------------------------------

  async handle(batch: StoredEvent[]): Promise<DocWrite[]> {
    const relevant = batch.filter(
      (e) => (CONVERSATION_EVENTS.has(e.type) && e.streamId.startsWith(CONVERSATION_PREFIX)) || e.type === SETTINGS_EVENT,
    );
    if (relevant.length === 0) return [];
    const dues = new Map<string, EscalationDueDoc>();
    const settings = new Map<string, EscalationSettingsDoc>();
    const written = new Set<string>();
    const settingsWritten = new Set<string>();
    const conversationIds = relevant.filter((e) => e.type !== SETTINGS_EVENT).map((e) => e.streamId.slice(CONVERSATION_PREFIX.length));
    for (const doc of await findByIn<EscalationDueDoc>(this.store, ESCALATION_DUES, '_id', conversationIds)) dues.set(doc._id, doc);
    const propertyIds = relevant.map((e) => e.metadata.propertyId);
    for (const doc of await findByIn<EscalationSettingsDoc>(this.store, ESCALATION_SETTINGS, '_id', propertyIds)) settings.set(doc._id, doc);

    const minutesOf = (propertyId: string) => settings.get(propertyId)?.escalateAfterMinutes ?? null;
    const put = (doc: EscalationDueDoc) => {
      dues.set(doc._id, doc);
      written.add(doc._id);
    };

    for (const event of relevant) {
      const propertyId = event.metadata.propertyId;
      if (event.type === SETTINGS_EVENT) {
        const minutes = (event.data as { escalateAfterMinutes: number | null }).escalateAfterMinutes;
        const current = settings.get(propertyId);
        if (!current || current._pos < event.position) {
          settings.set(propertyId, { _id: propertyId, _pos: event.position, escalateAfterMinutes: minutes });
          settingsWritten.add(propertyId);
        }
        // Every pending wait of the property gets the new due time (this batch's docs first).
        // The minutes come from the event itself, so a redelivery after a partial write
        // (MongoDB: documents are not one transaction) recomputes what is missing.
        for (const doc of await this.store.find<EscalationDueDoc>(ESCALATION_DUES, { propertyId, pending: true })) {
          if (!dues.has(doc._id)) dues.set(doc._id, doc);
        }
        for (const doc of [...dues.values()]) {
          if (doc.propertyId !== propertyId || !doc.pending || doc._pos >= event.position) continue;
          put({ ...doc, _pos: event.position, dueAt: dueAt(doc, minutes) });
        }
        continue;
      }
      const conversationId = event.streamId.slice(CONVERSATION_PREFIX.length);
      const doc = dues.get(conversationId) ?? null;
      if (doc && doc._pos >= event.position) continue; // redelivered: already applied
      if (!doc && event.type !== 'TicketOpened') continue; // no ticket yet: nothing can wait
      const before: EscalationView = doc ?? { propertyId, ticketId: null, status: 'none', wait: null };
      const after = evolveEscalation(before, { type: event.type, data: event.data })!;
      const next: EscalationDueDoc = {
        _id: conversationId,
        _pos: event.position,
        conversationId,
        propertyId: after.propertyId,
        ticketId: after.ticketId,
        status: after.status,
        wait: after.wait,
        pending: after.wait !== null && !after.wait.escalated,
        dueAt: dueAt(after, minutesOf(after.propertyId)),
      };
      if (doc && sameDue(doc, next)) continue; // e.g. a second guest message while already waiting
      put(next);
    }

    const writes: DocWrite[] = [
      ...[...written].map((id) => ({ collection: ESCALATION_DUES, doc: dues.get(id)! })),
      ...[...settingsWritten].map((id) => ({ collection: ESCALATION_SETTINGS, doc: settings.get(id)! })),
    ];
    // Something due already (escalation just switched on for old waits, a replay, a clock
    // ahead of the events): tick as soon as this batch is committed, not a second later.
    const now = this.clock.now().getTime();
    const dueNow = [...written].some((id) => (dues.get(id)!.dueAt ?? Infinity) <= now);
    if (dueNow) this.requestTick(batch[batch.length - 1]!.position);
    return writes;
  }

  // ---- 2. the tick ---------------------------------------------------------------------

  /** Starts ticking; `committed` is the consumer's last committed position (for waking after a batch). */
  startTicking(committed: () => Position | null): void {
    if (this.ticking) return;
    const abort = new AbortController();
    this.executed.clear();
    this.ticking = { abort, loop: this.tickLoop(committed, abort.signal) };
  }

  /** Stops ticking, awaiting the tick in flight (its command either landed or did not: both are fine). */
  async stopTicking(): Promise<void> {
    const ticking = this.ticking;
    if (!ticking) return;
    this.ticking = null;
    ticking.abort.abort();
    this.wake?.();
    await ticking.loop;
  }

  private requestTick(after: Position): void {
    this.wakeAfter = after;
    this.wake?.();
  }

  private async tickLoop(committed: () => Position | null, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const after = this.wakeAfter;
      if (after !== null) {
        this.wakeAfter = null;
        await this.untilCommitted(after, committed, signal);
      }
      try {
        await this.tick(signal);
      } catch (error) {
        this.logger.warn(`tick failed: ${String(error)}`);
      }
      if (this.wakeAfter !== null || signal.aborted) continue;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          this.wake = null;
          resolve();
        };
        const timer = setTimeout(done, this.options.tickEveryMs);
        signal.addEventListener('abort', done, { once: true });
        this.wake = done;
      });
    }
  }

  /** The batch's writes commit right after `handle` returns; the tick must read them. */
  private async untilCommitted(position: Position, committed: () => Position | null, signal: AbortSignal): Promise<void> {
    const deadline = Date.now() + 2000;
    while (!signal.aborted && Date.now() < deadline) {
      const at = committed();
      if (at !== null && at >= position) return;
      await sleepUnlessAborted(5, signal);
    }
  }

  /** One pass: every wait due by the clock's now is escalated (or found no longer waiting). */
  async tick(signal?: AbortSignal): Promise<void> {
    const now = this.clock.now();
    const due = await this.store.find<EscalationDueDoc>(
      ESCALATION_DUES,
      { dueAt: { $lt: now.getTime() + 1 } },
      { sort: { dueAt: 1 }, limit: this.options.tickLimit },
    );
    const executed = new Map<string, Position>();
    for (const doc of due) {
      if (signal?.aborted) return;
      const previous = this.executed.get(doc._id);
      if (previous !== undefined && previous === doc._pos) {
        executed.set(doc._id, previous);
        continue;
      }
      if (!doc.wait || !doc.ticketId) continue;
      try {
        const result = await this.commands.execute(
          new EscalateTicket(doc.conversationId, doc.propertyId, doc.ticketId, doc.wait.reason, doc.wait.since, now.toISOString()),
        );
        executed.set(doc._id, doc._pos);
        if (result.escalated && !result.replayed) {
          this.logger.log(`escalated ticket ${doc.ticketId} (${doc.wait.reason} since ${doc.wait.since})`);
        }
      } catch (error) {
        // Retried on the next tick; one failing conversation must not hold up the others.
        this.logger.warn(`could not escalate ticket ${doc.ticketId}: ${String(error)}`);
      }
    }
    this.executed = executed;
  }
}

function sameDue(a: EscalationDueDoc, b: EscalationDueDoc): boolean {
  return (
    a.ticketId === b.ticketId &&
    a.status === b.status &&
    a.dueAt === b.dueAt &&
    a.pending === b.pending &&
    JSON.stringify(a.wait) === JSON.stringify(b.wait)
  );
}

/** The watcher's consumer: the log half plus the tick, started and stopped together (under the lease). */
export class EscalationWatcherConsumer extends LogConsumer {
  constructor(
    private readonly watcher: EscalationWatcher,
    events: EventStore,
    store: ReadModelStore,
  ) {
    super(watcher, events, store);
  }

  override async start(): Promise<void> {
    await super.start();
    this.watcher.startTicking(() => this.position);
  }

  override async stop(): Promise<void> {
    await this.watcher.stopTicking();
    await super.stop();
  }
}

/**
 * `npm start` on the embedded store uses both cores: this process serves the HTTP API, and a
 * child process of the same build (dist/main.js forked with ROLES=projector,worker and
 * LCT_EMBEDDED_WORKER_CHILD=1) runs the log consumers (projector, AVA, push notifier,
 * escalation watcher) — the production role split, with SQLite instead of Redis in between:
 *
 * - Change feed: the child publishes into DATA_DIR/change-feed.db and, after each committed
 *   batch, sends `published` over the fork's IPC channel; this process's feed runs in
 *   cross-process mode (sqlite-change-feed.ts) and reads what follows the last entry it
 *   delivered, so SSE ids (log positions) stay the same and subscribers get every entry in
 *   order, also across a restart of the child (it also catches up when the child exits).
 *   A note rather than polling (PRAGMA data_version): nothing wakes while idle, and nothing
 *   waits for a tick — a poll every T ms adds T/2 on average (measured with the event log's
 *   own 10 ms poll: +5 ms on the idle ack → SSE lag).
 * - Event log, the other way: after each group this process commits to events.db it sends
 *   `appended`, and the child's subscriptions read at once; their 10 ms poll of the file
 *   remains for appends by anyone else (the CLI). The child's own appends (AVA, escalations)
 *   need no note: its subscriptions hear of them in process.
 * - Supervision: the child's stdout/stderr are this process's (one log); a child that exits
 *   by itself is restarted after a backoff (100 ms doubling to 5 s, reset once it ran 30 s),
 *   each exit logged. stop() (SIGTERM/SIGINT on this process, shutdown.ts) sends SIGTERM: the
 *   child stops its consumers at a checkpoint and releases their leases within the same 5 s
 *   budget (SIGKILL at 4.5 s). A child whose parent is gone (IPC disconnect: the parent was
 *   killed) shuts down the same way. A child killed outright leaves its leases to expire
 *   (ttl 5 s), as a crashed production worker does; the next one takes over from the checkpoints.
 * - `/health/ready` has an `embeddedWorkers` probe: down while the child is not running.
 * - `/metrics` asks the child for its metrics on every scrape (`metrics` over IPC, answered in
 *   ≤ 1 s or left out) and includes its `lct_*` series (metrics.ts).
 *
 * A child process rather than a worker thread: it is exactly the tested production split
 * (a second Nest app in the same process would share process-wide state — signal handlers,
 * process.exit in shutdown, the command clock — and a native crash or a runaway heap in one
 * would take down the other), it can be killed and restarted on its own, and its CPU shows up
 * as its own process. The price is a second Node process (~150 MB resident: Node, Nest, the
 * SQLite connections) and a start-up about 1.5 s longer (both boot at once on two cores).
 *
 * EMBEDDED_WORKERS=inline keeps everything in one process (config.ts); createApp (the tests'
 * in-process apps, the CLI) runs whatever its ROLES say, in its own process, always.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { StoreProbe } from './adapters/adapters.js';
import type { MetricsJson } from './adapters/observability/metrics.js';
import type { SqliteChangeFeed } from './adapters/sqlite/sqlite-change-feed.js';
import type { SqliteEventStore } from './adapters/sqlite/sqlite-event-store.js';
import { createApp } from './app.js';
import { type Config, EMBEDDED_WORKER_CHILD_ENV } from './config.js';
import { SHUTDOWN_TIMEOUT_MS, shutDownOnSignals } from './shutdown.js';

/** What the child tells its parent over the IPC channel. */
type ChildMessage = { type: 'ready' } | { type: 'published' } | { type: 'metrics'; request: number; metrics: MetricsJson };
/** What the parent tells (or asks) the child. */
type ParentMessage = { type: 'appended' } | { type: 'metrics'; request: number };

/** A scrape of the parent's /metrics waits this long for the child's series, then goes without them. */
const METRICS_TIMEOUT_MS = 1000;

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));
export const CHILD_ROLES = 'projector,worker';

/** Whether `npm start` with this configuration runs the log consumers in a child process. */
export function runsWorkersInChild(config: Config): boolean {
  const embedded = !config.eventStoreUrl && !config.mongoUrl && !config.redisUrl;
  return embedded && config.embeddedWorkers === 'process' && config.roles.length === 3 && !isEmbeddedWorkerChild();
}

export function isEmbeddedWorkerChild(): boolean {
  return process.env[EMBEDDED_WORKER_CHILD_ENV] === '1';
}

export interface EmbeddedWorkersOptions {
  logger: Logger;
  /** First restart delay, doubled for each exit in a row up to maxRestartDelayMs. */
  restartDelayMs?: number;
  maxRestartDelayMs?: number;
  /** A child that ran this long resets the delay. */
  stableAfterMs?: number;
  /** stop(): SIGKILL a child still running after this long. */
  killAfterMs?: number;
}

type State = 'starting' | 'running' | 'restarting' | 'stopped';

/** The parent's side: forks, watches and restarts the child, and stops it. */
export class EmbeddedWorkers {
  private child: ChildProcess | null = null;
  /** This process's feed (cross-process mode), once connected: what the child publishes reaches its listeners. */
  private feed: SqliteChangeFeed | null = null;
  private childExited: Promise<void> = Promise.resolve();
  private state: State = 'stopped';
  private restarts = 0;
  private metricsRequests = 0;
  private exitsInARow = 0;
  private startedAt = 0;
  private lastExit: string | null = null;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | null = null;
  private readonly restartDelayMs: number;
  private readonly maxRestartDelayMs: number;
  private readonly stableAfterMs: number;
  private readonly killAfterMs: number;

  constructor(private readonly options: EmbeddedWorkersOptions) {
    this.restartDelayMs = options.restartDelayMs ?? 100;
    this.maxRestartDelayMs = options.maxRestartDelayMs ?? 5000;
    this.stableAfterMs = options.stableAfterMs ?? 30_000;
    this.killAfterMs = options.killAfterMs ?? SHUTDOWN_TIMEOUT_MS - 500;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** For `/health/ready`: up while the child runs (its consumers started or waiting for their leases). */
  readonly probe: StoreProbe = {
    name: 'embeddedWorkers',
    check: async () => {
      if (this.state !== 'running') throw new Error(`the log consumers' child process is ${this.state}${this.lastExit ? ` (last exit: ${this.lastExit})` : ''}`);
      return { pid: this.pid, roles: CHILD_ROLES, restarts: this.restarts, upForMs: Date.now() - this.startedAt };
    },
  };

  /** From now on the child's `published` notes (and its exits) catch this feed up. */
  follow(feed: SqliteChangeFeed): void {
    this.feed = feed;
    feed.catchUp();
  }

  /**
   * The child's metrics (the parent's /metrics includes its `lct_*` series: metrics.ts), or
   * null while it is not running or does not answer within METRICS_TIMEOUT_MS.
   */
  readonly childMetrics = (): Promise<MetricsJson | null> => {
    const child = this.child;
    if (!child?.connected || this.state !== 'running') return Promise.resolve(null);
    const request = ++this.metricsRequests;
    return new Promise((resolve) => {
      const done = (metrics: MetricsJson | null) => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(metrics);
      };
      const onMessage = (message: ChildMessage) => message.type === 'metrics' && message.request === request && done(message.metrics);
      const onExit = () => done(null);
      const timer = setTimeout(() => done(null), METRICS_TIMEOUT_MS);
      child.on('message', onMessage);
      child.once('exit', onExit);
      child.send({ type: 'metrics', request } satisfies ParentMessage);
    });
  };

  /** From now on every group `events` commits is told to the child (`appended`): its consumers read it at once. */
  tellAppends(events: SqliteEventStore): void {
    events.onCommitted(() => {
      const child = this.child;
      if (child?.connected) child.send({ type: 'appended' } satisfies ParentMessage);
    });
  }

  /**
   * Forks the child; resolves once it reports its consumers started, or once it exited (then it
   * is restarted in the background). main.ts starts it before its own app, so both boot at once
   * (the data files' set-up is safe side by side: SQLite's busy timeout; the demo's secret and
   * VAPID keys are written by loadConfig before the fork).
   */
  start(): Promise<void> {
    this.stopping = false;
    return this.spawn();
  }

  /** SIGTERM to the child (it stops at a checkpoint), SIGKILL after killAfterMs; no restart from now on. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    const child = this.child;
    if (!child) {
      this.state = 'stopped';
      return;
    }
    const exited = this.childExited;
    child.kill('SIGTERM');
    const timer = setTimeout(() => {
      this.options.logger.error({ childPid: child.pid }, `the log consumers' child process did not stop within ${this.killAfterMs} ms: killing it`);
      child.kill('SIGKILL');
    }, this.killAfterMs);
    await exited;
    clearTimeout(timer);
  }

  private spawn(): Promise<void> {
    const { logger } = this.options;
    this.state = this.restarts === 0 ? 'starting' : 'restarting';
    this.startedAt = Date.now();
    const child = fork(MAIN, [], {
      env: { ...process.env, ROLES: CHILD_ROLES, [EMBEDDED_WORKER_CHILD_ENV]: '1' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child = child;
    let gone = false;
    let ready!: () => void;
    const started = new Promise<void>((resolve) => (ready = resolve));
    this.childExited = new Promise<void>((resolve) => {
      const onGone = (how: string) => {
        if (gone) return;
        gone = true;
        if (this.child === child) this.child = null;
        this.lastExit = how;
        this.feed?.catchUp(); // whatever it committed before its last note
        ready();
        resolve();
        this.exited(child.pid, how);
      };
      child.once('exit', (code, signal) => onGone(signal ? `signal ${signal}` : `code ${code}`));
      child.once('error', (error) => onGone(`error ${error.message}`));
    });
    child.on('message', (message: ChildMessage) => {
      if (message.type === 'published') this.feed?.catchUp();
      else if (message.type === 'ready') {
        this.state = 'running';
        logger.info({ childPid: child.pid, roles: CHILD_ROLES }, `log consumers running in child process ${child.pid} (roles: ${CHILD_ROLES})`);
        this.feed?.catchUp();
        ready();
      }
    });
    return started;
  }

  private exited(pid: number | undefined, how: string): void {
    const { logger } = this.options;
    if (this.stopping) {
      this.state = 'stopped';
      logger.info({ childPid: pid, exit: how }, `log consumers' child process ${pid} stopped (${how})`);
      return;
    }
    if (Date.now() - this.startedAt >= this.stableAfterMs) this.exitsInARow = 0;
    const delay = Math.min(this.restartDelayMs * 2 ** this.exitsInARow, this.maxRestartDelayMs);
    this.exitsInARow++;
    this.restarts++;
    this.state = 'restarting';
    logger.error({ childPid: pid, exit: how, restartInMs: delay, restarts: this.restarts }, `log consumers' child process ${pid} exited (${how}): restarting it in ${delay} ms`);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (!this.stopping) void this.spawn();
    }, delay);
  }
}

/**
 * The child's side (main.ts, with LCT_EMBEDDED_WORKER_CHILD=1): the log consumers without an
 * HTTP server, a `published` note to the parent after each committed batch of the change feed,
 * and a graceful shutdown on SIGTERM/SIGINT or when the parent is gone.
 */
export async function runEmbeddedWorkerChild(config: Config): Promise<void> {
  if (!process.send) throw new Error(`${EMBEDDED_WORKER_CHILD_ENV}=1 is for the child process the service forks itself (no IPC channel here)`);
  const service = await createApp(config);
  const { adapters, logger } = service;
  const send = (message: ChildMessage) => {
    if (process.connected) process.send!(message);
  };
  // A batch's entries reach local listeners synchronously right after its commit: one note per batch.
  let noteDue = false;
  adapters.changeFeed.subscribe(() => {
    if (noteDue) return;
    noteDue = true;
    queueMicrotask(() => {
      noteDue = false;
      send({ type: 'published' });
    });
  });
  process.on('message', (message: ParentMessage) => {
    if (message.type === 'appended') adapters.sqliteEvents?.appendedElsewhere();
    else if (message.type === 'metrics') {
      void adapters.metrics.registry.getMetricsAsJSON().then((metrics) => send({ type: 'metrics', request: message.request, metrics }));
    }
  });
  const shutDown = shutDownOnSignals(service, null, logger);
  process.once('disconnect', () => void shutDown('IPC disconnect (parent gone)'));
  if (!process.connected) {
    void shutDown('IPC disconnect (parent gone)');
    return;
  }
  send({ type: 'ready' });
}

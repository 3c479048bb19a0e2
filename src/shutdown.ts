/**
 * Graceful shutdown on SIGTERM and SIGINT (SPEC Operability), within `timeoutMs` (5 s):
 *
 * 1. App.close(): new requests get 503 `shutting_down` (shutdown-gate.ts); every SSE stream
 *    ends cleanly (clients resume with Last-Event-ID); the HTTP server stops accepting and
 *    waits for the requests in flight, closing idle keep-alive connections; the log consumers
 *    (projector, AVA, push notifier, escalation watcher) stop at a checkpoint and release
 *    their leases; the stores close. On the embedded default the log consumers run in a child
 *    process (embedded-workers.ts): main.ts closes the app and stops the child (SIGTERM, the
 *    same checkpoint stop there) together, within the same budget.
 * 2. A connection still open after `drainMs` (a request that has not even arrived completely,
 *    a client that stalls) is cut, so one slow client cannot hold the exit.
 * 3. Exit 0 once closed. If anything still hangs at `timeoutMs`, exit 1 anyway, logged.
 *
 * A repeated signal is ignored (npm forwards the terminal's Ctrl-C, so one Ctrl-C can arrive twice).
 */
import type { Server } from 'node:http';
import type { Logger } from 'pino';

export const SHUTDOWN_TIMEOUT_MS = 5000;
export const SHUTDOWN_DRAIN_MS = 3000;

export interface Closable {
  close(): Promise<void>;
}

export interface ShutdownOptions {
  timeoutMs?: number;
  drainMs?: number;
  /** process.exit, replaceable to test the timeout. */
  exit?: (code: number) => void;
  /** Signals to handle; default SIGTERM and SIGINT. */
  signals?: NodeJS.Signals[];
}

/** Installs the signal handlers; returns the shutdown function they run (also usable directly). */
export function shutDownOnSignals(app: Closable, server: Server | null, logger: Logger, options: ShutdownOptions = {}): (signal: string) => Promise<void> {
  const timeoutMs = options.timeoutMs ?? SHUTDOWN_TIMEOUT_MS;
  const drainMs = options.drainMs ?? SHUTDOWN_DRAIN_MS;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let started: Promise<void> | null = null;

  const shutDown = (signal: string): Promise<void> => {
    if (started) {
      logger.info({ signal }, `${signal} received while shutting down: ignored`);
      return started;
    }
    const t0 = Date.now();
    logger.info({ signal }, `${signal} received: shutting down (at most ${timeoutMs} ms)`);
    const hard = setTimeout(() => {
      logger.error({ signal, afterMs: Date.now() - t0 }, `shutdown did not finish within ${timeoutMs} ms: exiting anyway`);
      exit(1);
    }, timeoutMs);
    const drain = setTimeout(() => {
      logger.warn({ signal, afterMs: Date.now() - t0 }, `connections still open after ${drainMs} ms of shutdown: cutting them`);
      server?.closeAllConnections();
    }, drainMs);
    started = app.close().then(
      () => {
        clearTimeout(drain);
        clearTimeout(hard);
        logger.info({ signal, tookMs: Date.now() - t0 }, `shut down in ${Date.now() - t0} ms`);
        exit(0);
      },
      (error: unknown) => {
        clearTimeout(drain);
        clearTimeout(hard);
        logger.error({ signal, err: error }, `shutdown failed: ${error instanceof Error ? error.message : String(error)}`);
        exit(1);
      },
    );
    return started;
  };
  for (const signal of options.signals ?? ['SIGTERM', 'SIGINT']) process.on(signal, () => void shutDown(signal));
  return shutDown;
}

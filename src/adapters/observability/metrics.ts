/**
 * The process's Prometheus metrics (prom-client): one registry per process (per app in
 * tests), served at `/metrics` by every process. Names are prefixed `lct_`; the Node.js
 * process metrics (`process_*`, `nodejs_*`) come from prom-client's default collectors.
 *
 * - `lct_commands_total{command,outcome}` and `lct_command_duration_seconds{command,outcome}`:
 *   every command through the CommandBus (command-metrics.ts), outcome `ok` or the rule's
 *   kind (`conflict`, `forbidden`, `not_found`, `invalid`, `unavailable`, `unprocessable`), `error` otherwise.
 * - `lct_event_store_append_duration_seconds{outcome}`: every append to the log (until
 *   durable), outcome `ok`, `conflict` (wrong expected revision) or `error`.
 * - `lct_projection_lag_events{consumer}`: head − checkpoint per consumer of the log,
 *   computed when scraped (from the stored checkpoints, so any process reports it).
 * - `lct_sse_connections`: open Server-Sent Events streams of this process.
 * - `lct_pushes_total{outcome}`: Web Push attempts by journaled outcome.
 *
 * `npm start`'s API process also shows what its log consumers' child process counted
 * (`includeFrom`, embedded-workers.ts): the `lct_*` series of both are summed (prom-client's
 * AggregatorRegistry, as in cluster mode) — AVA's and the escalation watcher's commands, the
 * pushes — except the lag, which both compute alike from the same checkpoints; the `process_*`
 * and `nodejs_*` series are the API process's own.
 */
import { AggregatorRegistry, Counter, Gauge, Histogram, type MetricObjectWithValues, type MetricValue, Registry, collectDefaultMetrics } from 'prom-client';
import type { AppMetrics } from '../../application/ports/metrics.js';
import type { PushOutcome } from '../../application/processing/push-delivery.js';

export type CommandOutcome = 'ok' | 'conflict' | 'forbidden' | 'not_found' | 'invalid' | 'unavailable' | 'unprocessable' | 'error';
export type AppendOutcome = 'ok' | 'conflict' | 'error';

/** Lag per consumer; a consumer without a value (e.g. never started) is left out. */
export type LagSource = () => Promise<Array<{ consumer: string; lag: number }>>;

const PUSH_OUTCOMES: PushOutcome[] = ['delivered', 'retrying', 'failed', 'subscription_gone'];
/** A registry's metrics as JSON (prom-client's `getMetricsAsJSON`): what another process sends to be included. */
export type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];
/** Another process's metrics, or null when it cannot tell now (e.g. restarting). */
export type MetricsSource = () => Promise<MetricsJson | null>;

const SUMMED_ACROSS_PROCESSES = (name: string) => name.startsWith('lct_') && name !== 'lct_projection_lag_events';

/** How long a scrape waits for the stores to answer the lag query; it then reports no lag values. */
const LAG_TIMEOUT_MS = 1000;

export class Metrics implements AppMetrics {
  readonly registry = new Registry();
  readonly commands: Counter<'command' | 'outcome'>;
  readonly commandSeconds: Histogram<'command' | 'outcome'>;
  readonly appendSeconds: Histogram<'outcome'>;
  readonly sseConnections: Gauge;
  readonly pushes: Counter<'outcome'>;
  readonly projectionLag: Gauge<'consumer'>;
  private lagSource: LagSource | null = null;
  private readonly included: MetricsSource[] = [];

  constructor(options: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
    this.commands = new Counter({
      name: 'lct_commands_total',
      help: 'Commands executed, by command and outcome',
      labelNames: ['command', 'outcome'],
      registers,
    });
    this.commandSeconds = new Histogram({
      name: 'lct_command_duration_seconds',
      help: 'Command latency (CommandBus execute to answer), by command and outcome',
      labelNames: ['command', 'outcome'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.appendSeconds = new Histogram({
      name: 'lct_event_store_append_duration_seconds',
      help: 'Event store append latency until the events are durable, by outcome',
      labelNames: ['outcome'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    });
    this.sseConnections = new Gauge({ name: 'lct_sse_connections', help: 'Open Server-Sent Events streams', registers });
    this.pushes = new Counter({ name: 'lct_pushes_total', help: 'Web Push attempts, by journaled outcome', labelNames: ['outcome'], registers });
    for (const outcome of PUSH_OUTCOMES) this.pushes.inc({ outcome }, 0);
    const metrics = this;
    this.projectionLag = new Gauge({
      name: 'lct_projection_lag_events',
      help: 'Log positions a consumer trails the head (head - checkpoint), when scraped',
      labelNames: ['consumer'],
      registers,
      async collect() {
        this.reset();
        if (!metrics.lagSource) return;
        for (const { consumer, lag } of await metrics.currentLag(metrics.lagSource)) this.set({ consumer }, lag);
      },
    });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The text exposition of every metric (with the `lct_*` series of the processes included). */
  async scrape(): Promise<string> {
    if (this.included.length === 0) return this.registry.metrics();
    const [own, ...others] = await Promise.all([this.registry.getMetricsAsJSON(), ...this.included.map((source) => source().catch(() => null))]);
    // The aggregator of a name is its first series' (this process's): summed, or this process's value.
    const mine = own.map((m) => ({ ...m, aggregator: SUMMED_ACROSS_PROCESSES(m.name) ? ('sum' as const) : ('first' as const) }));
    const theirs = others.map((metrics) => (metrics ?? []).filter((m) => SUMMED_ACROSS_PROCESSES(m.name)));
    return AggregatorRegistry.aggregate([mine, ...theirs]).metrics();
  }

  /** From now on /metrics also shows the `lct_*` series of `source` (another process of this service). */
  includeFrom(source: MetricsSource): void {
    this.included.push(source);
  }

  measureLagWith(source: LagSource): void {
    this.lagSource = source;
  }

  commandFinished(command: string, outcome: CommandOutcome, seconds: number): void {
    this.commands.inc({ command, outcome });
    this.commandSeconds.observe({ command, outcome }, seconds);
  }

  appendFinished(outcome: AppendOutcome, seconds: number): void {
    this.appendSeconds.observe({ outcome }, seconds);
  }

  pushAttempted(outcome: PushOutcome): void {
    this.pushes.inc({ outcome });
  }

  /** A store that does not answer in time (or fails) leaves the gauge empty rather than failing or stalling the scrape. */
  private async currentLag(source: LagSource): Promise<Array<{ consumer: string; lag: number }>> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        source(),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('lag query timed out')), LAG_TIMEOUT_MS))),
      ]);
    } catch {
      return [];
    } finally {
      clearTimeout(timer);
    }
  }
}

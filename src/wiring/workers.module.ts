/**
 * The log consumers this process runs, by role: `projector` (the read models) and `worker`
 * (AVA's answers, the push notifier and the escalation watcher, each its own consumer). Each
 * consumer runs under its own lease: however many processes have the role, one runs it at a
 * time, and another takes over within the lease ttl when it dies. A lone process gets every lease at once and starts as without one.
 */
import { type DynamicModule, Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { AiResponder } from '../application/processing/ai-responder.js';
import { EscalationWatcher, EscalationWatcherConsumer } from '../application/processing/escalation-watcher.js';
import { LeasedRunner } from '../application/processing/leased-runner.js';
import { LogConsumer } from '../application/processing/log-consumer.js';
import { PushNotifier } from '../application/processing/push-notifier.js';
import type { EventStore } from '../application/ports/event-store.js';
import type { LeaseStore } from '../application/ports/lease.js';
import type { ReadModelStore } from '../application/ports/read-models.js';
import { CONFIG, EVENT_STORE, LEASES, READ_MODELS } from '../application/ports/tokens.js';
import { ProjectionsService } from '../application/projections/projections.service.js';
import type { Config } from '../config.js';

@Injectable()
class Workers implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly runners: LeasedRunner[] = [];
  private readonly logger = new Logger('Workers');

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    @Inject(LEASES) private readonly leases: LeaseStore,
    @Inject(EVENT_STORE) private readonly events: EventStore,
    @Inject(READ_MODELS) private readonly store: ReadModelStore,
    private readonly projections: ProjectionsService,
    private readonly ai: AiResponder,
    private readonly push: PushNotifier,
    private readonly escalation: EscalationWatcher,
  ) {}

  async onApplicationBootstrap() {
    const consumers: Array<[string, Pick<LogConsumer, 'start' | 'stop'>]> = [];
    // The projections' group and their rebuilds, together under the projector lease.
    if (this.config.roles.includes('projector')) consumers.push(['projector', { start: () => this.projections.startAll(), stop: () => this.projections.stopAll() }]);
    if (this.config.roles.includes('worker')) {
      consumers.push(['ai-responder', new LogConsumer(this.ai, this.events, this.store)]);
      consumers.push(['push-notifier', new LogConsumer(this.push, this.events, this.store)]);
      consumers.push(['escalation-watcher', new EscalationWatcherConsumer(this.escalation, this.events, this.store)]);
    }
    for (const [name, consumer] of consumers) {
      const runner = new LeasedRunner(this.leases, { name, start: () => consumer.start(), stop: () => consumer.stop() });
      this.runners.push(runner);
      await runner.start();
    }
  }

  /**
   * All consumers stop at once, each at a checkpoint, within STOP_BUDGET_MS: a store that no
   * longer answers (FerretDB stalled under load) must not hold the exit past SIGTERM's 5 s. A
   * consumer still stopping then is left as it is: it writes nothing more once stopped (its
   * batch's checkpoint is never written after the stop, documents are guarded by position),
   * so the stored checkpoints stay where a successor resumes; closing the stores ends its calls.
   */
  async onApplicationShutdown() {
    const stopping = Promise.all(this.runners.splice(0).map((runner) => runner.stop()));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), STOP_BUDGET_MS)));
    if ((await Promise.race([stopping, late])) === 'late') {
      this.logger.warn(`log consumers still stopping after ${STOP_BUDGET_MS} ms (a store not answering): closing the stores under them`);
      stopping.catch(() => undefined);
    }
    clearTimeout(timer);
  }
}

/** Of SIGTERM's 5 s (shutdown.ts): the rest is for closing the stores. */
const STOP_BUDGET_MS = 3000;

export class WorkersModule {
  static forRoot(): DynamicModule {
    return { module: WorkersModule, providers: [AiResponder, PushNotifier, EscalationWatcher, Workers] };
  }
}

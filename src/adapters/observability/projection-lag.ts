/**
 * `lct_projection_lag_events{consumer}`: how far each consumer of the log trails its head,
 * read from the stored checkpoints when `/metrics` is scraped, so every process (an API-only
 * one too) reports every consumer. A worker consumer without a checkpoint (it never ran in
 * this deployment) is left out; the projector without one trails by the whole log.
 */
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { EventStore, Position } from '../../application/ports/event-store.js';
import type { ReadModelStore } from '../../application/ports/read-models.js';
import { EVENT_STORE, METRICS, READ_MODELS } from '../../application/ports/tokens.js';
import { AI_RESPONDER_CHECKPOINT } from '../../application/processing/ai-responder.js';
import { ESCALATION_WATCHER_CHECKPOINT } from '../../application/processing/escalation-watcher.js';
import { PUSH_NOTIFIER_CHECKPOINT } from '../../application/processing/push-notifier.js';
import { ProjectionsService } from '../../application/projections/projections.service.js';
import type { Metrics } from './metrics.js';

/** The worker consumers by their lease names (workers.module.ts), with their checkpoints. */
const WORKER_CONSUMERS: Array<{ consumer: string; checkpoint: string }> = [
  { consumer: 'ai-responder', checkpoint: AI_RESPONDER_CHECKPOINT },
  { consumer: 'push-notifier', checkpoint: PUSH_NOTIFIER_CHECKPOINT },
  { consumer: 'escalation-watcher', checkpoint: ESCALATION_WATCHER_CHECKPOINT },
];

@Injectable()
export class ProjectionLagMetrics implements OnModuleInit {
  constructor(
    @Inject(METRICS) private readonly metrics: Metrics,
    @Inject(EVENT_STORE) private readonly events: EventStore,
    @Inject(READ_MODELS) private readonly store: ReadModelStore,
    private readonly projections: ProjectionsService,
  ) {}

  onModuleInit(): void {
    this.metrics.measureLagWith(async () => {
      const [head, projector, ...workers] = await Promise.all([
        this.events.headPosition(),
        this.projections.checkpoint(),
        ...WORKER_CONSUMERS.map((c) => this.store.checkpoint(c.checkpoint)),
      ]);
      const lag = (checkpoint: Position | null) => (head === null ? 0 : Math.max(0, Number(head - (checkpoint ?? 0n))));
      return [
        { consumer: 'projector', lag: lag(projector) },
        ...WORKER_CONSUMERS.flatMap((c, i) => (workers[i] === null ? [] : [{ consumer: c.consumer, lag: lag(workers[i]!) }])),
      ];
    });
  }
}

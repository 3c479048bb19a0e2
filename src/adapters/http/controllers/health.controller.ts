import { Controller, Get, Inject } from '@nestjs/common';
import type { EventStore } from '../../../application/ports/event-store.js';
import { EVENT_STORE } from '../../../application/ports/tokens.js';
import { PROJECTIONS, ProjectionsService } from '../../../application/projections/projections.service.js';
import { Public } from '../auth/auth.guard.js';

@Controller()
export class HealthController {
  constructor(
    @Inject(EVENT_STORE) private readonly events: EventStore,
    private readonly projections: ProjectionsService,
  ) {}

  /** Liveness plus how far each read model trails the log. */
  @Get('health')
  @Public()
  async health() {
    const head = await this.events.headPosition();
    // The projections run as one group, so they share one checkpoint.
    const checkpoint = await this.projections.checkpoint();
    const lag = head === null ? 0 : Number(head - (checkpoint ?? 0n));
    const projections = PROJECTIONS.map((p) => ({ name: p.name, version: p.version, checkpoint: checkpoint?.toString() ?? null, lag }));
    return { status: 'ok', head: head?.toString() ?? null, projections };
  }
}

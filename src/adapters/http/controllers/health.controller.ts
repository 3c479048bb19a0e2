import { Controller, Get, Inject } from '@nestjs/common';
import type { EventStore } from '../../../application/ports/event-store.js';
import { EVENT_STORE } from '../../../application/ports/tokens.js';
import { ProjectionsService } from '../../../application/projections/projections.service.js';
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
    // Each projection's live version has its own checkpoint (a rebuilt or changed one replays alone).
    const projections = (await this.projections.checkpoints()).map(({ name, version, checkpoint }) => ({
      name,
      version,
      checkpoint: checkpoint?.toString() ?? null,
      lag: head === null ? 0 : Math.max(0, Number(head - (checkpoint ?? 0n))),
    }));
    return { status: 'ok', head: head?.toString() ?? null, projections };
  }
}

/**
 * Hand-off metrics of a property over a time range (domain/handoff-metrics.ts says what each
 * figure means and whose it is). The `handoffTickets` read model is read through its
 * (propertyId, time key) indexes: exactly the tickets opened and the requests declined in the
 * range, in pages of PAGE, then aggregated here in the request.
 *
 * Cost: one indexed range read per PAGE documents in the range, and memory and CPU linear in
 * them (sorting for percentiles: n log n). It grows with the property's tickets in the range
 * (not with the whole log, nor with other properties), which is why a range is at most
 * MAX_RANGE_DAYS long. Nothing is precomputed: a rollup per day would make long ranges cheap,
 * at the price of fixing the buckets (and the time zone) up front.
 */
import { Inject, Injectable } from '@nestjs/common';
import { DomainError } from '../../domain/errors.js';
import { type HandoffMetrics, aggregateHandoffMetrics } from '../../domain/handoff-metrics.js';
import type { Clock } from '../ports/clock.js';
import type { Doc, ReadModelStore } from '../ports/read-models.js';
import { CLOCK, READ_MODELS } from '../ports/tokens.js';
import {
  type DeclinedRequestDoc,
  HANDOFF_DECLINES,
  HANDOFF_TICKETS,
  type HandoffTicketDoc,
} from '../projections/handoff-tickets.projection.js';
import { ProjectionsService } from '../projections/projections.service.js';

const DAY_MS = 24 * 60 * 60 * 1000;
export const DEFAULT_RANGE_DAYS = 7;
export const MAX_RANGE_DAYS = 92;
const PAGE = 500;

@Injectable()
export class HandoffMetricsQueries {
  constructor(
    @Inject(READ_MODELS) private readonly store: ReadModelStore,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly projections: ProjectionsService,
  ) {}

  /**
   * [from, to): without `to`, now (the service's clock); without `from`, 7 days before `to`.
   * `from` must be before `to`, and the range at most MAX_RANGE_DAYS (400 otherwise).
   */
  window(from?: Date, to?: Date): { from: Date; to: Date } {
    const end = to ?? this.clock.now();
    const start = from ?? new Date(end.getTime() - DEFAULT_RANGE_DAYS * DAY_MS);
    const invalid = (field: string, message: string) =>
      new DomainError('invalid', 'invalid_time_range', 'Validation failed', [{ field, messages: [message] }]);
    if (start.getTime() >= end.getTime()) throw invalid('from', 'from must be before to (default: now)');
    if (end.getTime() - start.getTime() > MAX_RANGE_DAYS * DAY_MS) {
      throw invalid('to', `the range from..to must be at most ${MAX_RANGE_DAYS} days`);
    }
    return { from: start, to: end };
  }

  async metrics(propertyId: string, window: { from: Date; to: Date }, employeeId?: string): Promise<HandoffMetrics> {
    const tickets = await this.range<HandoffTicketDoc>(HANDOFF_TICKETS, 'openedKey', propertyId, window);
    const declines = await this.range<DeclinedRequestDoc>(HANDOFF_DECLINES, 'atKey', propertyId, window);
    return aggregateHandoffMetrics(tickets, declines, window, { employeeId });
  }

  /**
   * The property's documents whose time key is in [from, to), in key order. A key is
   * `${ISO time}#${id}`: `> from` (as an ISO string) already includes keys AT `from`, and any
   * key at or after `to` ends the read.
   */
  private async range<T extends Doc>(logical: string, key: 'openedKey' | 'atKey', propertyId: string, w: { from: Date; to: Date }) {
    const collection = this.projections.collection('handoffTickets', logical);
    const to = w.to.toISOString();
    const out: T[] = [];
    let after = w.from.toISOString();
    for (;;) {
      const page = await this.store.find<T>(collection, { propertyId, [key]: { $gt: after } }, { sort: { [key]: 1 }, limit: PAGE });
      for (const doc of page) {
        const k = (doc as unknown as Record<string, string>)[key]!;
        if (k >= to) return out;
        out.push(doc);
      }
      if (page.length < PAGE) return out;
      after = (page.at(-1) as unknown as Record<string, string>)[key]!;
    }
  }
}

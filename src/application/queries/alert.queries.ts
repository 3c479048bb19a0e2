import { Inject, Injectable } from '@nestjs/common';
import type { Filter, ReadModelStore } from '../ports/read-models.js';
import { READ_MODELS } from '../ports/tokens.js';
import { ALERT_DECISIONS, ALERTS, type AlertDecisionDoc, type AlertDoc, alertView } from '../projections/alerts.projection.js';
import { ProjectionsService } from '../projections/projections.service.js';

@Injectable()
export class AlertQueries {
  constructor(
    @Inject(READ_MODELS) private readonly store: ReadModelStore,
    private readonly projections: ProjectionsService,
  ) {}

  async list(propertyId: string, employeeId: string, unreadOnly: boolean, limit: number) {
    const filter: Filter = { propertyId, employeeId };
    if (unreadOnly) filter.read = false;
    const docs = await this.store.find<AlertDoc>(this.projections.collection('alerts', ALERTS), filter, { sort: { seq: -1 }, limit });
    return docs.map(alertView);
  }

  /** Every alert decision for one employee (or a conversation), newest first: the "why not?" answer. */
  async decisions(propertyId: string, by: { employeeId?: string; conversationId?: string }, limit = 50) {
    const filter: Filter = { propertyId };
    if (by.employeeId) filter.employeeId = by.employeeId;
    if (by.conversationId) filter.conversationId = by.conversationId;
    const docs = await this.store.find<AlertDecisionDoc>(this.projections.collection('alerts', ALERT_DECISIONS), filter, {
      sort: { seq: -1 },
      limit,
    });
    return docs.map(({ _id, _pos, seq: _seq, ...rest }) => ({ id: _id, ...rest, position: _pos.toString() }));
  }
}

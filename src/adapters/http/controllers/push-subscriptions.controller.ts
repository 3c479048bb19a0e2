/**
 * The caller's own browser push subscriptions. Every route addresses only the caller's list
 * (property + employee from the token), so no id of another employee can ever be named.
 */
import { Body, Controller, Delete, Get, HttpCode, Post, Query, Req } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { FastifyRequest } from 'fastify';
import { SubscribePush, UnsubscribePush } from '../../../application/commands/push-subscriptions.js';
import { ProjectionsService } from '../../../application/projections/projections.service.js';
import { PushSubscriptionQueries, pushSubscriptionView } from '../../../application/queries/push-subscription.queries.js';
import { Audience, CurrentPrincipal } from '../auth/auth.guard.js';
import type { EmployeePrincipal } from '../auth/principal.js';
import { commandId, now } from '../command-context.js';
import { PushSubscriptionBody, UnsubscribePushQuery } from '../dto/push-subscriptions.js';
import { ReadQuery, toPosition } from '../dto/queries.js';

@Controller('v1/me/push-subscriptions')
@Audience('employee')
export class PushSubscriptionsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly subscriptions: PushSubscriptionQueries,
    private readonly projections: ProjectionsService,
  ) {}

  @Get()
  async list(@CurrentPrincipal() me: EmployeePrincipal, @Query() q: ReadQuery) {
    await this.projections.waitFor(toPosition(q.minPosition));
    return { items: await this.subscriptions.list(me.propertyId, me.id) };
  }

  /** Always 201, also when the same subscription was already there (browsers re-post it on every load). */
  @Post()
  @HttpCode(201)
  async subscribe(@CurrentPrincipal() me: EmployeePrincipal, @Body() body: PushSubscriptionBody, @Req() req: FastifyRequest) {
    const subscription = { endpoint: body.endpoint, expirationTime: body.expirationTime, keys: { p256dh: body.keys.p256dh, auth: body.keys.auth } };
    const r = await this.commands.execute(new SubscribePush(me.propertyId, me.id, subscription, commandId(req, me, 'push-subscribe'), now()));
    return {
      subscription: pushSubscriptionView({ _id: r.subscription.subscriptionId, ...r.subscription }),
      position: r.position?.toString() ?? null,
    };
  }

  @Delete()
  @HttpCode(204)
  async unsubscribe(@CurrentPrincipal() me: EmployeePrincipal, @Query() q: UnsubscribePushQuery, @Req() req: FastifyRequest) {
    await this.commands.execute(new UnsubscribePush(me.propertyId, me.id, q.endpoint, commandId(req, me, 'push-unsubscribe'), now()));
  }
}

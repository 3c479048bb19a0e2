import { Body, Controller, Get, Put, Query, Req } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { FastifyRequest } from 'fastify';
import { ChangeEscalationSettings } from '../../../application/commands/change-escalation-settings.js';
import { ChangeLiveChatSettings, SwitchPushNotifications } from '../../../application/commands/change-property-settings.js';
import { ChangePersonalSettings } from '../../../application/commands/employee-commands.js';
import { ProjectionsService } from '../../../application/projections/projections.service.js';
import { SettingsQueries } from '../../../application/queries/settings.queries.js';
import { AdminOnly, Audience, CurrentPrincipal } from '../auth/auth.guard.js';
import type { EmployeePrincipal } from '../auth/principal.js';
import { commandId, now } from '../command-context.js';
import { EscalationSettingsBody, LiveChatSettingsBody, PersonalSettingsBody, PushNotificationsBody } from '../dto/bodies.js';
import { ReadQuery, toPosition } from '../dto/queries.js';
import { requireSomeSetting } from '../dto/settings-update.js';

@Controller('v1')
@Audience('employee')
export class SettingsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly settings: SettingsQueries,
    private readonly projections: ProjectionsService,
  ) {}

  @Get('settings/live-chat')
  async liveChat(@CurrentPrincipal() me: EmployeePrincipal, @Query() q: ReadQuery) {
    await this.projections.waitFor(toPosition(q.minPosition));
    const s = await this.settings.property(me.propertyId);
    return { requestSupportChat: s.requestSupportChat, chatMode: s.chatMode, updatedAt: s.updatedAt, updatedBy: s.updatedBy };
  }

  @Put('settings/live-chat')
  @AdminOnly()
  async changeLiveChat(@CurrentPrincipal() me: EmployeePrincipal, @Body() body: LiveChatSettingsBody, @Req() req: FastifyRequest) {
    requireSomeSetting(body, ['requestSupportChat', 'chatMode']);
    const r = await this.commands.execute(
      new ChangeLiveChatSettings(
        me.propertyId,
        me.id,
        { requestSupportChat: body.requestSupportChat, chatMode: body.chatMode },
        commandId(req, me, 'live-chat-settings'),
        now(),
      ),
    );
    return { requestSupportChat: r.settings.requestSupportChat, chatMode: r.settings.chatMode, position: r.position?.toString() ?? null };
  }

  @Get('settings/push-notifications')
  async push(@CurrentPrincipal() me: EmployeePrincipal, @Query() q: ReadQuery) {
    await this.projections.waitFor(toPosition(q.minPosition));
    const s = await this.settings.property(me.propertyId);
    return { pushNotificationsEnabled: s.pushNotificationsEnabled, updatedAt: s.updatedAt, updatedBy: s.updatedBy };
  }

  @Put('settings/push-notifications')
  @AdminOnly()
  async switchPush(@CurrentPrincipal() me: EmployeePrincipal, @Body() body: PushNotificationsBody, @Req() req: FastifyRequest) {
    const r = await this.commands.execute(
      new SwitchPushNotifications(me.propertyId, me.id, body.pushNotificationsEnabled, commandId(req, me, 'push-settings'), now()),
    );
    return { pushNotificationsEnabled: r.settings.pushNotificationsEnabled, position: r.position?.toString() ?? null };
  }

  @Get('settings/escalation')
  async escalation(@CurrentPrincipal() me: EmployeePrincipal, @Query() q: ReadQuery) {
    await this.projections.waitFor(toPosition(q.minPosition));
    const s = await this.settings.property(me.propertyId);
    return { escalateAfterMinutes: s.escalateAfterMinutes, updatedAt: s.updatedAt, updatedBy: s.updatedBy };
  }

  @Put('settings/escalation')
  @AdminOnly()
  async changeEscalation(@CurrentPrincipal() me: EmployeePrincipal, @Body() body: EscalationSettingsBody, @Req() req: FastifyRequest) {
    const r = await this.commands.execute(
      new ChangeEscalationSettings(me.propertyId, me.id, body.escalateAfterMinutes, commandId(req, me, 'escalation-settings'), now()),
    );
    return { escalateAfterMinutes: r.escalateAfterMinutes, updatedAt: r.updatedAt, updatedBy: r.updatedBy, position: r.position?.toString() ?? null };
  }

  @Get('me/settings')
  async mine(@CurrentPrincipal() me: EmployeePrincipal, @Query() q: ReadQuery) {
    await this.projections.waitFor(toPosition(q.minPosition));
    const { position: _p, ...s } = await this.settings.personal(me.propertyId, me.id);
    return s;
  }

  @Put('me/settings')
  async changeMine(@CurrentPrincipal() me: EmployeePrincipal, @Body() body: PersonalSettingsBody, @Req() req: FastifyRequest) {
    const { incomingSupportRequests, assignedChatActivity, closureMessage } = requireSomeSetting(body, [
      'incomingSupportRequests',
      'assignedChatActivity',
      'closureMessage',
    ]);
    const change = { incomingSupportRequests, assignedChatActivity, closureMessage }; // read-only updatedAt ignored
    const r = await this.commands.execute(
      new ChangePersonalSettings(me.propertyId, me.id, change, commandId(req, me, 'personal-settings'), now(), me.role),
    );
    return { ...r.settings, position: r.position?.toString() ?? null };
  }
}

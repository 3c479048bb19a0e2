import { Controller, Get, HttpCode, Inject, Post } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { SendTestPush } from '../../../application/commands/send-test-push.js';
import type { PushSender } from '../../../application/ports/push-sender.js';
import { PUSH_SENDER } from '../../../application/ports/tokens.js';
import { DomainError } from '../../../domain/errors.js';
import { Audience, CurrentPrincipal } from '../auth/auth.guard.js';
import type { EmployeePrincipal } from '../auth/principal.js';
import { now } from '../command-context.js';

/** What a browser needs to subscribe (the VAPID public key), and a test push to check a device. */
@Controller('v1')
@Audience('employee')
export class PushController {
  constructor(
    @Inject(PUSH_SENDER) private readonly sender: PushSender,
    private readonly commands: CommandBus,
  ) {}

  /** `applicationServerKey` for `pushManager.subscribe()`; 503 when push is not configured. */
  @Get('push/vapid-public-key')
  vapidPublicKey() {
    if (!this.sender.publicKey) {
      throw new DomainError('unavailable', 'push_unavailable', 'Web Push is not configured on this service (no VAPID keys)');
    }
    return { publicKey: this.sender.publicKey };
  }

  /** One push to each of the caller's subscriptions now; answers (and records) each outcome. */
  @Post('me/push-subscriptions/test')
  @HttpCode(200)
  async test(@CurrentPrincipal() me: EmployeePrincipal) {
    return this.commands.execute(new SendTestPush(me.propertyId, me.id, now()));
  }
}

/**
 * The body of `POST /v1/me/push-subscriptions` is exactly `PushSubscription.toJSON()`. Only
 * shape and types are checked here; what makes a subscription valid (https, key sizes, the
 * key being a P-256 point) is a domain rule (domain/push-subscriptions.ts).
 */
import { Type } from 'class-transformer';
import { IsDefined, IsNotEmpty, IsNumber, IsObject, IsString, ValidateIf, ValidateNested } from 'class-validator';
import { IsSafeText } from './text-rules.js';

export class PushSubscriptionKeysBody {
  @IsString()
  p256dh!: string;

  @IsString()
  auth!: string;
}

export class PushSubscriptionBody {
  @IsString() @IsSafeText()
  endpoint!: string;

  /** Required but nullable: browsers send `null` when the subscription does not expire. */
  @ValidateIf((_, value) => value !== null)
  @IsNumber({ allowNaN: false, allowInfinity: false }, { message: 'expirationTime must be a number (epoch milliseconds) or null' })
  expirationTime!: number | null;

  @IsDefined() @IsObject() @ValidateNested() @Type(() => PushSubscriptionKeysBody)
  keys!: PushSubscriptionKeysBody;
}

export class UnsubscribePushQuery {
  @IsString() @IsNotEmpty()
  endpoint!: string;
}

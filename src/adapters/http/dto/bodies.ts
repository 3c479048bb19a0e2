/** Request bodies. Unknown fields are rejected (ValidationPipe forbidNonWhitelisted). */
import { Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsNotEmpty, IsOptional, IsString, Max, MaxLength, Min, ValidateIf, ValidateNested } from 'class-validator';
import { CHAT_MODES, type ChatMode, MAX_ESCALATE_AFTER_MINUTES } from '../../../domain/settings.js';
import { IsNotBlank, IsSafeText } from './text-rules.js';

export class StartConversationBody {
  @IsString() @IsNotEmpty() @MaxLength(100)
  @IsSafeText() @IsNotBlank()
  propertyId!: string;

  @IsString() @IsNotEmpty() @MaxLength(100)
  @IsSafeText() @IsNotBlank()
  guestName!: string;
}

export class MessageBody {
  @IsString() @IsNotEmpty() @MaxLength(4000)
  @IsSafeText({ multiline: true }) @IsNotBlank()
  text!: string;
}

/** The new owner: an employee id (`sub`) of the caller's property; the name, if given, is what colleagues and the guest see. */
export class ReassignBody {
  @IsString() @IsNotEmpty() @MaxLength(100)
  @IsSafeText() @IsNotBlank()
  employeeId!: string;

  @IsOptional() @IsString() @IsNotEmpty() @MaxLength(100)
  @IsSafeText() @IsNotBlank()
  employeeName?: string;
}

/*
 * Settings bodies (README "Settings updates"): what the GET answered can be sent back as it is,
 * so the read-only `updatedAt`/`updatedBy` are accepted and ignored; fields left out keep their
 * current value; the controller refuses a body naming no setting (requireSomeSetting).
 */

/** Partial: at least one of the two. */
export class LiveChatSettingsBody {
  @IsOptional() @IsBoolean()
  requestSupportChat?: boolean;

  @IsOptional() @IsIn(CHAT_MODES)
  chatMode?: ChatMode;

  /** Read-only (as GET answers it); ignored. */
  @IsOptional() @IsString()
  updatedAt?: string | null;

  /** Read-only (as GET answers it); ignored. */
  @IsOptional() @IsString()
  updatedBy?: string | null;
}

export class PushNotificationsBody {
  @IsBoolean()
  pushNotificationsEnabled!: boolean;

  /** Read-only (as GET answers it); ignored. */
  @IsOptional() @IsString()
  updatedAt?: string | null;

  /** Read-only (as GET answers it); ignored. */
  @IsOptional() @IsString()
  updatedBy?: string | null;
}

/** Required; null switches escalation off. */
export class EscalationSettingsBody {
  @ValidateIf((_o, value) => value !== null) @IsInt() @Min(1) @Max(MAX_ESCALATE_AFTER_MINUTES)
  escalateAfterMinutes!: number | null;

  /** Read-only (as GET answers it); ignored. */
  @IsOptional() @IsString()
  updatedAt?: string | null;

  /** Read-only (as GET answers it); ignored. */
  @IsOptional() @IsString()
  updatedBy?: string | null;
}

export class ClosureMessageBody {
  @IsOptional() @IsBoolean()
  enabled?: boolean;

  /** May be empty (the disabled default reads back as `""`); required when enabled — a domain rule (decidePersonalSettings). */
  @IsOptional() @IsString() @MaxLength(1000)
  @IsSafeText({ multiline: true })
  text?: string;
}

/** Partial: fields left out keep their current value. */
export class PersonalSettingsBody {
  @IsOptional() @IsBoolean()
  incomingSupportRequests?: boolean;

  @IsOptional() @IsBoolean()
  assignedChatActivity?: boolean;

  @IsOptional() @ValidateNested() @Type(() => ClosureMessageBody)
  closureMessage?: ClosureMessageBody;

  /** Read-only (as GET answers it); ignored. */
  @IsOptional() @IsString()
  updatedAt?: string | null;
}

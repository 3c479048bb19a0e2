/** Request bodies. Unknown fields are rejected (ValidationPipe forbidNonWhitelisted). */
import { Type } from 'class-transformer';
import { IsBoolean, IsIn, IsNotEmpty, IsOptional, IsString, MaxLength, ValidateNested } from 'class-validator';
import { CHAT_MODES, type ChatMode } from '../../../domain/settings.js';

export class StartConversationBody {
  @IsString() @IsNotEmpty() @MaxLength(100)
  propertyId!: string;

  @IsString() @IsNotEmpty() @MaxLength(100)
  guestName!: string;
}

export class MessageBody {
  @IsString() @IsNotEmpty() @MaxLength(4000)
  text!: string;
}

export class LiveChatSettingsBody {
  @IsBoolean()
  requestSupportChat!: boolean;

  @IsIn(CHAT_MODES)
  chatMode!: ChatMode;
}

export class PushNotificationsBody {
  @IsBoolean()
  pushNotificationsEnabled!: boolean;
}

export class ClosureMessageBody {
  @IsOptional() @IsBoolean()
  enabled?: boolean;

  @IsOptional() @IsString() @IsNotEmpty() @MaxLength(1000)
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
}

import { Type } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsOptional, IsString, IsUUID, Matches, Max, MaxLength, Min } from 'class-validator';
import { type InboxFilter, MAX_TRANSCRIPT_PAGE } from '../../../application/queries/inbox.queries.js';
import { IsSafeText, SAFE_ID_PATTERN, SAFE_LINE_PATTERN } from './text-rules.js';

const POSITION = /^\d{1,19}$/;

/** `minPosition`: the position a command answered with; the read waits (briefly) until it is applied. */
export class ReadQuery {
  @IsOptional() @Matches(POSITION, { message: 'minPosition must be a decimal event-log position' })
  minPosition?: string;
}

export class ListConversationsQuery extends ReadQuery {
  @IsOptional() @IsIn(['open', 'assigned', 'mine', 'closed', 'all'])
  status?: InboxFilter;

  @IsOptional() @Matches(/^\d{1,16}$/, { message: 'cursor must be the nextCursor of a previous page' })
  cursor?: string;

  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(100)
  limit?: number;

  /** Only conversations of a guest of this name: exact match, ignoring case and surrounding/repeated spaces. */
  @IsOptional() @IsString() @MaxLength(100) @Matches(SAFE_LINE_PATTERN, { message: 'guestName must contain a visible character and no control characters' })
  @IsSafeText()
  guestName?: string;
}

/** `GET …/conversations/{id}/messages`: the page of the transcript before `before` (a message's `position`; default: the latest). */
export class MessagesQuery extends ReadQuery {
  @IsOptional() @Matches(POSITION, { message: 'before must be the position of a message (messagesNextBefore / nextBefore of a previous answer)' })
  before?: string;

  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(MAX_TRANSCRIPT_PAGE)
  limit?: number;
}

export class ListAlertsQuery extends ReadQuery {
  @IsOptional() @IsIn(['true', 'false'])
  unread?: 'true' | 'false';

  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(200)
  limit?: number;
}

export class AlertDecisionsQuery extends ReadQuery {
  @IsOptional() @IsUUID()
  conversationId?: string;

  /** Admins only: another employee's decisions. */
  @IsOptional() @Matches(SAFE_ID_PATTERN, { message: 'employeeId must be an employee id' }) @MaxLength(200)
  @IsSafeText()
  employeeId?: string;

  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(200)
  limit?: number;
}

/** RFC 3339 date-time only (ISO week or ordinal dates pass IsISO8601 but not `new Date()`), years 1000-9999 (strict IsISO8601 refuses years below 100). */
const RFC3339 = /^[1-9]\d{3}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;

/** The troubleshooting checks: for the caller, about one conversation (optional). */
export class DiagnosticsQuery extends ReadQuery {
  @IsOptional() @IsUUID()
  conversationId?: string;
}

export class HistoryQuery {
  @IsOptional() @Matches(RFC3339, { message: 'at must be an RFC 3339 date-time, e.g. 2026-11-25T16:30:00Z' })
  @IsISO8601({ strict: true })
  at?: string;
}

/** `GET /v1/ops/handoff-metrics`: [from, to), RFC 3339 like `at`; default the 7 days before now. */
export class HandoffMetricsQuery extends ReadQuery {
  @IsOptional() @Matches(RFC3339, { message: 'from must be an RFC 3339 date-time, e.g. 2026-11-18T00:00:00Z' })
  @IsISO8601({ strict: true })
  from?: string;

  @IsOptional() @Matches(RFC3339, { message: 'to must be an RFC 3339 date-time, e.g. 2026-11-25T00:00:00Z' })
  @IsISO8601({ strict: true })
  to?: string;

  /** Only this employee's row in `employees` (the property's figures stay whole). */
  @IsOptional() @Matches(SAFE_ID_PATTERN, { message: 'employeeId must be an employee id' }) @MaxLength(200)
  @IsSafeText()
  employeeId?: string;
}

export class StreamQuery {
  @IsOptional()
  access_token?: string;

  /** Not validated here: an id the stream cannot resume from (malformed too) gets a `reset` event, like the header. */
  @IsOptional() @IsString()
  lastEventId?: string;
}

export const toPosition = (value: string | undefined): bigint | null => (value === undefined ? null : BigInt(value));

/**
 * One rule for every settings PUT (README "Settings updates"): fields left out keep their
 * current value, and a body must name at least one setting. `{}` (or a body with only the
 * read-only fields a GET answers, `updatedAt`/`updatedBy`) is a 400 naming the settings it
 * could have named, rather than a silent no-op that hides a client bug.
 */
import { BadRequestException } from '@nestjs/common';

export function requireSomeSetting<T extends object>(body: T, settings: ReadonlyArray<keyof T & string>): T {
  if (settings.some((name) => body[name] !== undefined)) return body;
  const message = `at least one of ${settings.join(', ')} is required`;
  throw new BadRequestException({
    message: 'Validation failed',
    code: 'no_setting_given',
    details: settings.map((field) => ({ field, messages: [message] })),
  });
}

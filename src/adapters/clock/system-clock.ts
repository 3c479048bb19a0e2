import type { Clock } from '../../application/ports/clock.js';

/** The default: the machine's clock. */
export class SystemClock implements Clock {
  now(): Date {
    return new Date();
  }
}

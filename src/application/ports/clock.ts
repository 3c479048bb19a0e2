/**
 * Where "now" comes from for decisions that depend on the passing of time (escalation of
 * unattended tickets) and for the times commands are stamped with. The service uses the
 * system clock; tests inject one they control, so nothing has to wait in real time.
 */
export interface Clock {
  now(): Date;
}

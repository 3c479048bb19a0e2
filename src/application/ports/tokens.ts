/** Injection tokens for the ports (interfaces vanish at run time, so Nest needs these). */
export const EVENT_STORE = Symbol('EventStore');
export const READ_MODELS = Symbol('ReadModelStore');
export const CHANGE_FEED = Symbol('ChangeFeed');
export const AI_RESPONDER = Symbol('AiResponder');
export const IDEMPOTENCY = Symbol('IdempotencyStore');
export const LEASES = Symbol('LeaseStore');
export const CONFIG = Symbol('Config');
export const PUSH_SENDER = Symbol('PushSender');
export const CLOCK = Symbol('Clock');
export const METRICS = Symbol('Metrics');

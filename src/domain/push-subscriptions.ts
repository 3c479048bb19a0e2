/**
 * Browser push subscriptions of an employee (SPEC §2 "Alerts": push to the employee's
 * browsers). They live on the employee's own stream (`employeeStream`, next to the personal
 * settings), so history shows when each browser subscribed and why it went away.
 *
 * A subscription is what the browser's `PushSubscription.toJSON()` gives:
 * `{ endpoint, expirationTime, keys: { p256dh, auth } }`. Its id is derived from
 * property + employee + endpoint, so the same browser always has the same id.
 */
import { ECDH } from 'node:crypto';
import { uuidV5 } from './name-based-id.js';
import { DomainError } from './errors.js';

export interface PushSubscriptionKeys {
  /** The browser's P-256 public key, base64url (stored without padding). */
  p256dh: string;
  /** The 16-byte authentication secret, base64url (stored without padding). */
  auth: string;
}

/** Exactly `PushSubscription.toJSON()`. */
export interface PushSubscriptionJson {
  endpoint: string;
  /** Epoch milliseconds, or null (most browsers). */
  expirationTime: number | null;
  keys: PushSubscriptionKeys;
}

export interface PushSubscription extends PushSubscriptionJson {
  subscriptionId: string;
  employeeId: string;
  createdAt: string;
}

/** Active subscriptions, oldest first. */
export interface PushSubscriptionState {
  subscriptions: PushSubscription[];
}
export const initialPushSubscriptionState = (): PushSubscriptionState => ({ subscriptions: [] });

export type PushSubscriptionRemovedReason = 'unsubscribed' | 'replaced' | 'cap' | 'gone';

export type PushSubscriptionEvent =
  | {
      type: 'PushSubscriptionAdded';
      data: PushSubscriptionJson & { subscriptionId: string; employeeId: string; at: string };
    }
  | {
      type: 'PushSubscriptionRemoved';
      data: {
        subscriptionId: string;
        endpoint: string;
        employeeId: string;
        reason: PushSubscriptionRemovedReason;
        /** The push service's answer, for reason `gone` (404/410). */
        status?: number;
        at: string;
      };
    };

export const PUSH_SUBSCRIPTION_EVENT_TYPES: ReadonlySet<string> = new Set(['PushSubscriptionAdded', 'PushSubscriptionRemoved']);

/** Browsers per employee; subscribing one more drops the oldest (reason `cap`). */
export const PUSH_SUBSCRIPTION_CAP = 10;
export const MAX_ENDPOINT_LENGTH = 2048;

const SUBSCRIPTION_NAMESPACE = '5f0b7a3e-8d1c-4e6f-9a2b-7c4d3e2f1a0b';
export const pushSubscriptionId = (propertyId: string, employeeId: string, endpoint: string) =>
  uuidV5(`${propertyId}\u0000${employeeId}\u0000${endpoint}`, SUBSCRIPTION_NAMESPACE);

export interface FieldError {
  field: string;
  messages: string[];
}

// base64url alphabet; `=` padding is tolerated (some clients pad) and stripped before storing.
const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;

function decodeBase64url(value: string): Buffer | null {
  if (!BASE64URL.test(value) || value.replace(/=+$/, '').length % 4 === 1) return null;
  return Buffer.from(value.replace(/=+$/, ''), 'base64url');
}

/** True when `key` is an uncompressed P-256 point that lies on the curve. */
function isP256Point(key: Buffer): boolean {
  if (key.length !== 65 || key[0] !== 0x04) return false;
  try {
    ECDH.convertKey(key, 'prime256v1'); // OpenSSL refuses points that are not on the curve
    return true;
  } catch {
    return false;
  }
}

/**
 * The value rules of a subscription (the HTTP layer only checks shape and types). Returns one
 * entry per offending field, empty when valid. `http:` endpoints only when allowed (a local
 * push service in tests); real push services are always `https:`.
 */
export function pushSubscriptionErrors(s: PushSubscriptionJson, allowHttpEndpoints: boolean): FieldError[] {
  const errors: FieldError[] = [];
  const fail = (field: string, message: string) => errors.push({ field, messages: [message] });

  const protocols = allowHttpEndpoints ? ['https:', 'http:'] : ['https:'];
  let url: URL | null = null;
  try {
    url = new URL(s.endpoint);
  } catch {
    /* reported below */
  }
  if (s.endpoint.length > MAX_ENDPOINT_LENGTH) fail('endpoint', `endpoint must be at most ${MAX_ENDPOINT_LENGTH} characters`);
  else if (url === null || !protocols.includes(url.protocol)) fail('endpoint', `endpoint must be an ${protocols.join(' or ')} URL`);

  if (s.expirationTime !== null && (!Number.isFinite(s.expirationTime) || s.expirationTime < 0)) {
    fail('expirationTime', 'expirationTime must be epoch milliseconds or null');
  }

  const p256dh = decodeBase64url(s.keys.p256dh);
  if (p256dh === null || !isP256Point(p256dh)) {
    fail('keys.p256dh', 'keys.p256dh must be base64url of an uncompressed P-256 public key (65 bytes, on the curve)');
  }
  const auth = decodeBase64url(s.keys.auth);
  if (auth === null || auth.length !== 16) fail('keys.auth', 'keys.auth must be base64url of exactly 16 bytes');
  return errors;
}

export function evolvePushSubscriptions(state: PushSubscriptionState, event: PushSubscriptionEvent): PushSubscriptionState {
  switch (event.type) {
    case 'PushSubscriptionAdded': {
      const { at, ...rest } = event.data;
      const others = state.subscriptions.filter((s) => s.subscriptionId !== rest.subscriptionId);
      return { subscriptions: [...others, { ...rest, createdAt: at }] };
    }
    case 'PushSubscriptionRemoved':
      return { subscriptions: state.subscriptions.filter((s) => s.subscriptionId !== event.data.subscriptionId) };
    default:
      // The employee stream also carries personal settings and alert reads.
      return state;
  }
}

export interface SubscribeInput {
  /** Part of the deterministic subscription id. */
  propertyId: string;
  subscription: PushSubscriptionJson;
  /** `config.pushAllowHttpEndpoints`. */
  allowHttpEndpoints: boolean;
}

const sameSubscription = (a: PushSubscriptionJson, b: PushSubscriptionJson) =>
  a.expirationTime === b.expirationTime && a.keys.p256dh === b.keys.p256dh && a.keys.auth === b.keys.auth;

const stripPadding = (value: string) => value.replace(/=+$/, '');

/**
 * Subscribing the same browser again with the same keys appends nothing (browsers re-post on
 * every page load); new keys for the same endpoint replace the old ones; beyond `cap` the
 * oldest subscriptions go first.
 */
export function decideSubscribe(
  state: PushSubscriptionState,
  input: SubscribeInput,
  employeeId: string,
  at: string,
  cap = PUSH_SUBSCRIPTION_CAP,
): PushSubscriptionEvent[] {
  const errors = pushSubscriptionErrors(input.subscription, input.allowHttpEndpoints);
  if (errors.length > 0) throw new DomainError('invalid', 'invalid_push_subscription', 'Validation failed', errors);

  const next: PushSubscriptionJson = {
    endpoint: input.subscription.endpoint,
    expirationTime: input.subscription.expirationTime,
    keys: { p256dh: stripPadding(input.subscription.keys.p256dh), auth: stripPadding(input.subscription.keys.auth) },
  };
  const subscriptionId = pushSubscriptionId(input.propertyId, employeeId, next.endpoint);
  const existing = state.subscriptions.find((s) => s.endpoint === next.endpoint);
  if (existing && sameSubscription(existing, next)) return [];

  const removed = (s: PushSubscription, reason: PushSubscriptionRemovedReason): PushSubscriptionEvent => ({
    type: 'PushSubscriptionRemoved',
    data: { subscriptionId: s.subscriptionId, endpoint: s.endpoint, employeeId, reason, at },
  });
  const events: PushSubscriptionEvent[] = [];
  if (existing) events.push(removed(existing, 'replaced'));
  // Removals come first, so the state never holds more than `cap`.
  const remaining = state.subscriptions.filter((s) => s !== existing);
  const excess = remaining.length + 1 - cap;
  for (const oldest of remaining.slice(0, Math.max(0, excess))) events.push(removed(oldest, 'cap'));
  events.push({ type: 'PushSubscriptionAdded', data: { subscriptionId, ...next, employeeId, at } });
  return events;
}

export function decideUnsubscribe(state: PushSubscriptionState, endpoint: string, employeeId: string, at: string): PushSubscriptionEvent[] {
  const existing = state.subscriptions.find((s) => s.endpoint === endpoint);
  if (!existing) throw new DomainError('not_found', 'push_subscription_not_found', 'Push subscription not found');
  return [
    {
      type: 'PushSubscriptionRemoved',
      data: { subscriptionId: existing.subscriptionId, endpoint, employeeId, reason: 'unsubscribed', at },
    },
  ];
}

/**
 * The push service said the subscription no longer exists (404/410). It may already be gone
 * (unsubscribed meanwhile, or reported by a parallel send): then nothing is recorded.
 */
export function decideSubscriptionGone(
  state: PushSubscriptionState,
  subscriptionId: string,
  status: number,
  at: string,
): PushSubscriptionEvent[] {
  const existing = state.subscriptions.find((s) => s.subscriptionId === subscriptionId);
  if (!existing) return [];
  return [
    {
      type: 'PushSubscriptionRemoved',
      data: { subscriptionId, endpoint: existing.endpoint, employeeId: existing.employeeId, reason: 'gone', status, at },
    },
  ];
}

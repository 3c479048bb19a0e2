/**
 * Sends one Web Push message to one browser subscription (VAPID, `web-push`; SPEC §2 "Alerts").
 * The answer classifies what the push service said, so the notifier decides retries and
 * removals without knowing HTTP: 404/410 = the subscription is gone; 429, 5xx, a timeout or a
 * network error = try again (honouring Retry-After); any other 4xx = a permanent failure.
 */
export interface PushTarget {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

export type PushUrgency = 'very-low' | 'low' | 'normal' | 'high';

export interface PushMessage {
  /** The JSON text the service worker receives (encrypted with aes128gcm on the way). */
  payload: string;
  /** How long the push service may keep it for an offline device. */
  ttlSeconds: number;
  urgency: PushUrgency;
  /** RFC 8030 Topic (≤ 32 URL-safe base64 characters): a newer message replaces a queued one. */
  topic: string;
}

export type PushResult =
  | { kind: 'accepted'; status: number }
  | { kind: 'gone'; status: number }
  | { kind: 'retry'; status: number | null; retryAfterMs: number | null; error: string }
  | { kind: 'rejected'; status: number; error: string };

export interface PushSender {
  /** False when no VAPID keys are configured: nothing can be sent (decision `push_unavailable`). */
  readonly available: boolean;
  /** The VAPID public key browsers subscribe with (base64url), null when unavailable. */
  readonly publicKey: string | null;
  send(target: PushTarget, message: PushMessage): Promise<PushResult>;
}

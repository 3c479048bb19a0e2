/**
 * PushSender over the Web Push protocol (RFC 8030 + VAPID RFC 8292, payload aes128gcm RFC 8291).
 * `web-push` builds the VAPID header and encrypts the body; we send with fetch ourselves, because
 * web-push's sendNotification always speaks https (local push services are plain http) and
 * hides the status/headers we need to classify the answer.
 */
import webpush from 'web-push';
import type { PushMessage, PushResult, PushSender, PushTarget } from '../../application/ports/push-sender.js';
import { validateVapidKeys, validateVapidSubject } from './vapid.js';

export interface WebPushSenderConfig {
  publicKey: string;
  privateKey: string;
  /** mailto: or https: contact for the push service operator (JWT `sub`). */
  subject: string;
}

export interface WebPushSenderOptions {
  fetch?: typeof fetch;
  /** For the whole exchange (connect, answer, body); then the result is `retry` with status null. */
  timeoutMs?: number;
}

// Signing the VAPID JWT is ~70% of the CPU of a send (ECDSA + PEM encoding in web-push), so
// one JWT per push-service origin is reused for an hour; it is valid for 12 h (RFC 8292 allows
// ≤ 24 h), so a reused token always has ≥ 11 h left. Bounded: origins are few (FCM, Mozilla,
// Apple, WNS hosts), the cap only guards against a flood of odd endpoints.
const JWT_LIFETIME_S = 12 * 60 * 60;
const JWT_REUSE_MS = 60 * 60 * 1000;
const JWT_CACHE_MAX = 256;
/** Push services answer with tiny bodies; we read at most this much (then drop the connection). */
const BODY_READ_LIMIT = 16 * 1024;
const ERROR_SNIPPET = 200;

export class WebPushSender implements PushSender {
  readonly available = true;
  readonly publicKey: string;
  private readonly fetch: typeof fetch;
  private readonly timeoutMs: number;
  private readonly jwts = new Map<string, { authorization: string; reuseUntil: number }>();

  constructor(
    private readonly vapid: WebPushSenderConfig,
    options: WebPushSenderOptions = {},
  ) {
    validateVapidKeys(vapid.publicKey, vapid.privateKey);
    validateVapidSubject(vapid.subject);
    const timeoutMs = options.timeoutMs ?? 10_000;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new Error(`timeoutMs must be a positive number (got ${timeoutMs})`);
    this.publicKey = vapid.publicKey;
    this.fetch = options.fetch ?? globalThis.fetch;
    this.timeoutMs = timeoutMs;
  }

  async send(target: PushTarget, message: PushMessage): Promise<PushResult> {
    let request: { url: string; headers: Record<string, string>; body: Uint8Array };
    try {
      request = this.buildRequest(target, message);
    } catch (err) {
      // Bad subscription keys, a non-http(s) endpoint, an invalid topic: retrying cannot help.
      return { kind: 'rejected', status: 0, error: `cannot build the push request: ${errorText(err)}` };
    }

    const abort = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      abort.abort();
    }, this.timeoutMs);
    try {
      let res: Response;
      try {
        res = await this.fetch(request.url, {
          method: 'POST',
          headers: request.headers,
          body: request.body,
          // A push service never redirects; following one would re-POST the message elsewhere.
          redirect: 'manual',
          signal: abort.signal,
        });
      } catch (err) {
        const error = timedOut ? `timeout: no answer within ${this.timeoutMs} ms` : `network error: ${errorText(err)}`;
        return { kind: 'retry', status: null, retryAfterMs: null, error };
      }
      // The status is the answer; the body only feeds error messages (and frees the connection).
      const body = await readText(res, BODY_READ_LIMIT);
      return classify(res.status, res.headers.get('retry-after'), body);
    } finally {
      clearTimeout(timer);
    }
  }

  private buildRequest(target: PushTarget, message: PushMessage) {
    const url = new URL(target.endpoint);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`endpoint must be http(s), got ${url.protocol}`);
    const details = webpush.generateRequestDetails({ endpoint: target.endpoint, keys: target.keys }, message.payload, {
      // null (not undefined): web-push then neither signs a JWT of its own nor falls back to a
      // process-wide setVapidDetails(); we add our cached header below. (@types omits null.)
      vapidDetails: null as never,
      contentEncoding: 'aes128gcm',
      TTL: Math.floor(message.ttlSeconds),
      urgency: message.urgency,
      // web-push validates it (URL-safe base64, ≤ 32 chars) and sends no Topic for ''.
      topic: message.topic || undefined,
    });
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(details.headers)) {
      // fetch computes Content-Length from the body itself.
      if (name.toLowerCase() !== 'content-length') headers[name] = String(value);
    }
    headers.Authorization = this.authorization(url.origin);
    return { url: target.endpoint, headers, body: new Uint8Array(details.body ?? []) };
  }

  /** `vapid t=<JWT>, k=<public key>` for the push service at this origin (the JWT `aud`). */
  private authorization(audience: string): string {
    const now = Date.now();
    const cached = this.jwts.get(audience);
    if (cached && cached.reuseUntil > now) return cached.authorization;
    const { publicKey, privateKey, subject } = this.vapid;
    const exp = Math.floor(now / 1000) + JWT_LIFETIME_S;
    const { Authorization } = webpush.getVapidHeaders(audience, subject, publicKey, privateKey, 'aes128gcm', exp);
    this.jwts.delete(audience);
    if (this.jwts.size >= JWT_CACHE_MAX) this.jwts.delete(this.jwts.keys().next().value!);
    this.jwts.set(audience, { authorization: Authorization, reuseUntil: now + JWT_REUSE_MS });
    return Authorization;
  }
}

/** Without VAPID keys nothing can be sent; the notifier records `push_unavailable`. */
export class UnavailablePushSender implements PushSender {
  readonly available = false;
  readonly publicKey = null;

  async send(_target: PushTarget, _message: PushMessage): Promise<PushResult> {
    return { kind: 'rejected', status: 0, error: 'push unavailable: no VAPID keys configured' };
  }
}

/** The port's rules: 200/201/202 accepted; 404/410 gone; 429/5xx retry; anything else rejected. */
function classify(status: number, retryAfter: string | null, body: string): PushResult {
  if (status === 200 || status === 201 || status === 202) return { kind: 'accepted', status };
  if (status === 404 || status === 410) return { kind: 'gone', status };
  const error = `HTTP ${status}${body ? `: ${snippet(body)}` : ''}`;
  if (status === 429 || status >= 500) return { kind: 'retry', status, retryAfterMs: parseRetryAfter(retryAfter), error };
  // Other 4xx, and also 3xx / unusual 2xx (a push service never sends them): not retried.
  return { kind: 'rejected', status, error };
}

/** Retry-After (RFC 9110 §10.2.3): delay-seconds or an HTTP-date; null when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (value === null) return null;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  // HTTP-dates start with the day name; this keeps Date.parse's leniency ("5 min") out.
  if (!/^[A-Za-z]{3}/.test(v)) return null;
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

async function readText(res: Response, limit: number): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
      if (size >= limit) {
        await reader.cancel();
        break;
      }
    }
  } catch {
    // Timeout or reset while reading: keep what arrived; the status already decided.
  }
  return Buffer.concat(chunks).toString('utf8');
}

function snippet(body: string): string {
  const flat = body.replace(/\s+/g, ' ').trim();
  return flat.length > ERROR_SNIPPET ? `${flat.slice(0, ERROR_SNIPPET)}…` : flat;
}

function errorText(err: unknown): string {
  // Duck-typed, not instanceof: errors may come from another realm (vm contexts, test runners).
  const e = err as { message?: unknown; cause?: { message?: unknown; code?: unknown } } | null;
  if (!e || typeof e.message !== 'string') return String(err);
  // fetch wraps the socket error: "fetch failed" with the useful part in `cause`.
  const cause = e.cause;
  if (cause && typeof cause === 'object') {
    const parts = [cause.code, cause.message].filter((p) => typeof p === 'string' && p !== '');
    if (parts.length > 0) return parts.join(' ');
  }
  return e.message;
}

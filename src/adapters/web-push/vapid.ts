/**
 * VAPID (RFC 8292) key handling. Keys are checked at start-up so a typo in the configuration
 * fails with a message naming the bad key instead of every push answering 401/403 later.
 */
import { ECDH, createECDH } from 'node:crypto';
// web-push is CommonJS; its module.exports is the default import under nodenext.
import webpush from 'web-push';

export interface VapidKeys {
  /** base64url (no padding) of the 65-byte uncompressed P-256 point: what browsers subscribe with. */
  publicKey: string;
  /** base64url (no padding) of the 32-byte P-256 private scalar. */
  privateKey: string;
}

export function generateVapidKeys(): VapidKeys {
  const { publicKey, privateKey } = webpush.generateVAPIDKeys();
  return { publicKey, privateKey };
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** Strict base64url: Buffer.from is lenient (skips junk), so also require a canonical round trip. */
function decodeBase64Url(value: unknown, what: string, bytes: number): Buffer {
  if (typeof value !== 'string' || value === '') throw new Error(`${what} is missing`);
  if (!BASE64URL.test(value)) throw new Error(`${what} must be base64url without padding (A-Z a-z 0-9 - _)`);
  const decoded = Buffer.from(value, 'base64url');
  if (decoded.length !== bytes) throw new Error(`${what} must decode to ${bytes} bytes (got ${decoded.length})`);
  if (decoded.toString('base64url') !== value) throw new Error(`${what} is not canonical base64url (stray trailing bits)`);
  return decoded;
}

/** Throws an Error saying which key is malformed, or that the two keys are not a pair. */
export function validateVapidKeys(publicKey: string, privateKey: string): void {
  const pub = decodeBase64Url(publicKey, 'VAPID public key', 65);
  if (pub[0] !== 0x04) throw new Error('VAPID public key must be an uncompressed P-256 point (first byte 0x04)');
  try {
    // Throws for a point that is not on the curve.
    ECDH.convertKey(pub, 'prime256v1');
  } catch {
    throw new Error('VAPID public key is not a point on the P-256 curve');
  }

  const priv = decodeBase64Url(privateKey, 'VAPID private key', 32);
  const ecdh = createECDH('prime256v1');
  try {
    ecdh.setPrivateKey(priv); // rejects 0 and values ≥ the curve order
  } catch {
    throw new Error('VAPID private key is not a valid P-256 private key');
  }
  // A mismatched pair would sign JWTs that no push service accepts for subscriptions made
  // with the public key, so refuse it here.
  if (!ecdh.getPublicKey().equals(pub)) {
    throw new Error('VAPID public key and VAPID private key are not a pair (the private key derives another public key)');
  }
}

/** The JWT `sub` claim: a mailto: address or an https: URL (RFC 8292 §2.1). */
export function validateVapidSubject(subject: string): void {
  let url: URL;
  try {
    url = new URL(subject);
  } catch {
    throw new Error(`VAPID subject must be a mailto: or https: URL (got "${subject}")`);
  }
  if (url.protocol === 'mailto:') {
    if (!/^[^@\s]+@[^@\s]+$/.test(decodeURIComponent(url.pathname))) {
      throw new Error(`VAPID subject mailto: needs an e-mail address (got "${subject}")`);
    }
    return;
  }
  if (url.protocol !== 'https:') throw new Error(`VAPID subject must be a mailto: or https: URL (got "${subject}")`);
  // Apple's push service answers BadJwtToken for a localhost subject (web-push only warns, on every send).
  if (url.hostname === 'localhost') throw new Error('VAPID subject must not point to localhost: Apple\'s push service rejects it');
}

/**
 * RFC 9562 name-based UUIDs (version 5, SHA-1): the same name in the same namespace is always
 * the same id. Every command derives its event ids this way (several per command), so this is
 * on the hot path: the `uuid` package re-parses the namespace and hashes through a streaming
 * Hash object on every call, which the profile showed at ~5% of a command's CPU; one-shot
 * `crypto.hash` over the cached namespace bytes gives the same ids at a fraction of the cost
 * (test/unit/name-based-id.spec.ts compares both).
 */
import { hash } from 'node:crypto';

const namespaces = new Map<string, Buffer>();

function namespaceBytes(namespace: string): Buffer {
  let bytes = namespaces.get(namespace);
  if (bytes === undefined) {
    const hex = namespace.replace(/-/g, '');
    if (!/^[0-9a-f]{32}$/i.test(hex)) throw new TypeError(`not a UUID namespace: ${namespace}`);
    namespaces.set(namespace, (bytes = Buffer.from(hex, 'hex')));
  }
  return bytes;
}

export function uuidV5(name: string, namespace: string): string {
  const digest = hash('sha1', Buffer.concat([namespaceBytes(namespace), Buffer.from(name, 'utf8')]), 'hex');
  const variant = ((parseInt(digest[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${digest.slice(0, 8)}-${digest.slice(8, 12)}-5${digest.slice(13, 16)}-${variant}${digest.slice(17, 20)}-${digest.slice(20, 32)}`;
}

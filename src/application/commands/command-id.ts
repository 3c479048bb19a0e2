/**
 * A command id names one command: event ids and derived ids (a new conversation's, a reply's
 * message id) come from it, so a retried command finds its events and appends nothing.
 *
 * A command sent over HTTP with an `Idempotency-Key` also carries the fingerprint of the request
 * that issued it (method, URL, body): `<id>~<fingerprint>`. runDecision records the fingerprint
 * in the events' metadata (`requestFingerprint`) and derives everything from `<id>` alone, so the
 * same key with a different request is recognised as such in the log itself (422
 * `idempotency_key_reused`), even when the store of first answers was lost (a restart of the
 * in-process store): it can never be answered with someone else's events.
 */
const SEPARATOR = '~';

export function withRequestFingerprint(commandId: string, fingerprint: string): string {
  return `${commandId}${SEPARATOR}${fingerprint}`;
}

export function splitCommandId(commandId: string): { commandId: string; requestFingerprint?: string } {
  const at = commandId.indexOf(SEPARATOR);
  return at < 0 ? { commandId } : { commandId: commandId.slice(0, at), requestFingerprint: commandId.slice(at + 1) };
}

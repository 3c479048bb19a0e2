/**
 * Idempotency-Key retries that reach the decision itself (the store of first answers does not
 * know the key: another instance answered it first) while the stream's folded state is cached:
 * two embedded instances on one data dir, no Redis, so each has its own store of first answers
 * and its own folded-state cache. A retry is answered from its first events, a reused key is 422.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { client } from '../support/http.js';
import { type TestApp, startTestApp } from '../support/test-app.js';

const LIMITS = { RATE_LIMIT_ENABLED: 'false' };

describe('Idempotency-Key retries on a cached stream (two instances, no Redis)', () => {
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    a = await startTestApp(LIMITS);
    b = await startTestApp(LIMITS, a.dataDir);
  }, 60_000);
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
  });

  it('answers a retry from its first events after later commands filled the cache, and a reused key with another body is a 422', async () => {
    const apiA = client(a.url);
    const apiB = client(b.url);
    const started = await apiA.post('/v1/guest/conversations', undefined, { propertyId: 'hotel-a', guestName: 'Rita Retry' });
    expect(started.status).toBe(201);
    const { conversationId, guestToken } = started.body as { conversationId: string; guestToken: string };
    const path = `/v1/guest/conversations/${conversationId}/messages`;
    const key = { 'idempotency-key': `k-${conversationId}` };

    // The first attempt lands on b; a only ever sees its events in the log.
    const first = await apiB.post(path, guestToken, { text: 'first question' }, key);
    expect(first.status).toBe(201);
    for (const text of ['later one', 'later two']) expect((await apiA.post(path, guestToken, { text })).status).toBe(201);

    const retry = await apiA.post(path, guestToken, { text: 'first question' }, key);
    expect(retry.status).toBe(201);
    expect(retry.body.message).toEqual(first.body.message);
    expect(retry.body.position).toBe(first.body.position);

    const reused = await apiA.post(path, guestToken, { text: 'something else' }, key);
    expect({ status: reused.status, code: reused.body.code }).toEqual({ status: 422, code: 'idempotency_key_reused' });

    const events = await a.adapters.eventStore.readStream(`conversation-${conversationId}`);
    expect(events.filter((e) => e.type === 'GuestMessagePosted').map((e) => e.data.text)).toEqual(['first question', 'later one', 'later two']);
  }, 60_000);
});

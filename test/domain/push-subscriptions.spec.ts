/**
 * Push subscriptions of an employee (SPEC §2 Alerts: push to the employee's browsers):
 * - a subscription is the browser's PushSubscription.toJSON(): an https endpoint (≤ 2048),
 *   an expirationTime (epoch ms or null), a P-256 public key and a 16-byte auth secret;
 * - subscribing the same browser again changes nothing; new keys for it replace the old ones;
 * - at most 10 per employee: one more drops the oldest;
 * - unsubscribing an unknown endpoint is "not found";
 * - a subscription the push service calls gone is removed once.
 */
import { describe, it, expect } from '@jest/globals';
import { createECDH, randomBytes } from 'node:crypto';
import {
  type PushSubscriptionEvent,
  type PushSubscriptionJson,
  type PushSubscriptionState,
  decideSubscribe,
  decideSubscriptionGone,
  decideUnsubscribe,
  evolvePushSubscriptions,
  initialPushSubscriptionState,
  pushSubscriptionErrors,
  pushSubscriptionId,
} from '../../src/domain/push-subscriptions.js';
import { evolvePersonalSettings, DEFAULT_PERSONAL_SETTINGS, type EmployeeEvent } from '../../src/domain/settings.js';
import { deciderSpec } from './given-when-then.js';
import { alice, at, propertyId } from './fixtures.js';

const given = deciderSpec<PushSubscriptionState, PushSubscriptionEvent>(evolvePushSubscriptions, initialPushSubscriptionState);

const p256dh = () => createECDH('prime256v1').generateKeys().toString('base64url');
const auth = () => randomBytes(16).toString('base64url');
const browser = (n: number, keys = { p256dh: p256dh(), auth: auth() }): PushSubscriptionJson => ({
  endpoint: `https://push.example.com/send/${n}`,
  expirationTime: null,
  keys,
});
const idOf = (s: PushSubscriptionJson) => pushSubscriptionId(propertyId, alice.id, s.endpoint);

const subscribe = (s: PushSubscriptionJson, minute = 1, allowHttpEndpoints = false) => (state: PushSubscriptionState) =>
  decideSubscribe(state, { propertyId, subscription: s, allowHttpEndpoints }, alice.id, at(minute));

const added = (s: PushSubscriptionJson, minute = 1): PushSubscriptionEvent => ({
  type: 'PushSubscriptionAdded',
  data: { subscriptionId: idOf(s), ...s, employeeId: alice.id, at: at(minute) },
});
const removed = (
  s: PushSubscriptionJson,
  reason: 'unsubscribed' | 'replaced' | 'cap' | 'gone',
  minute: number,
  status?: number,
): PushSubscriptionEvent => ({
  type: 'PushSubscriptionRemoved',
  data: { subscriptionId: idOf(s), endpoint: s.endpoint, employeeId: alice.id, reason, ...(status === undefined ? {} : { status }), at: at(minute) },
});

const fields = (s: PushSubscriptionJson, allowHttp = false) => pushSubscriptionErrors(s, allowHttp).map((e) => e.field);

describe('a valid subscription', () => {
  it('is recorded with a deterministic id, the keys and who subscribed', () => {
    const chrome = browser(1);
    given([]).when(subscribe(chrome, 5)).then([added(chrome, 5)]);
    expect(idOf(chrome)).toBe(pushSubscriptionId(propertyId, alice.id, chrome.endpoint));
    expect(idOf(chrome)).not.toBe(pushSubscriptionId(propertyId, 'emp-bob', chrome.endpoint));
    expect(idOf(chrome)).not.toBe(pushSubscriptionId('hotel-2', alice.id, chrome.endpoint));
  });

  it('may carry an expirationTime in epoch milliseconds', () => {
    const s = { ...browser(1), expirationTime: 1767225600000 };
    given([]).when(subscribe(s)).then([added(s)]);
  });

  it('tolerates base64 padding on the keys and stores them unpadded', () => {
    const keys = { p256dh: p256dh(), auth: auth() };
    const padded = { ...browser(1, { p256dh: `${keys.p256dh}=`, auth: `${keys.auth}==` }) };
    given([]).when(subscribe(padded)).then([added({ ...padded, keys })]);
  });
});

describe('the value rules of a subscription', () => {
  it('needs an https endpoint; http only where allowed (a local push service)', () => {
    expect(fields({ ...browser(1), endpoint: 'http://localhost:8090/push/1' })).toEqual(['endpoint']);
    expect(fields({ ...browser(1), endpoint: 'http://localhost:8090/push/1' }, true)).toEqual([]);
    expect(fields({ ...browser(1), endpoint: 'ftp://push.example.com/1' }, true)).toEqual(['endpoint']);
    expect(fields({ ...browser(1), endpoint: 'not a url' })).toEqual(['endpoint']);
  });

  it('limits the endpoint to 2048 characters', () => {
    const base = 'https://push.example.com/';
    expect(fields({ ...browser(1), endpoint: base + 'x'.repeat(2048 - base.length) })).toEqual([]);
    expect(fields({ ...browser(1), endpoint: base + 'x'.repeat(2049 - base.length) })).toEqual(['endpoint']);
  });

  it('needs expirationTime to be epoch milliseconds or null', () => {
    expect(fields({ ...browser(1), expirationTime: -1 })).toEqual(['expirationTime']);
    expect(fields({ ...browser(1), expirationTime: Number.POSITIVE_INFINITY })).toEqual(['expirationTime']);
  });

  it('needs p256dh to be an uncompressed P-256 point on the curve, in base64url', () => {
    const ecdh = createECDH('prime256v1');
    const point = ecdh.generateKeys();
    const offCurve = Buffer.from(point);
    offCurve[64]! ^= 1;
    const bad = [
      offCurve.toString('base64url'),
      ecdh.getPublicKey(null, 'compressed').toString('base64url'),
      Buffer.concat([Buffer.from([4]), Buffer.alloc(64)]).toString('base64url'),
      point.toString('base64'), // standard base64 is not base64url (dropped below if it has no + or /)
      point.subarray(0, 64).toString('base64url'),
      'not base64url!',
      '',
    ].filter((k) => k.replace(/=+$/, '') !== point.toString('base64url'));
    for (const key of bad) expect({ key, fields: fields(browser(1, { p256dh: key, auth: auth() })) }).toEqual({ key, fields: ['keys.p256dh'] });
  });

  it('needs auth to be exactly 16 bytes of base64url', () => {
    for (const secret of [randomBytes(15).toString('base64url'), randomBytes(17).toString('base64url'), '', 'a+b/c'.repeat(4)]) {
      expect({ secret, fields: fields(browser(1, { p256dh: p256dh(), auth: secret })) }).toEqual({ secret, fields: ['keys.auth'] });
    }
  });

  it('reports every offending field at once, and subscribing with them records nothing', () => {
    const s: PushSubscriptionJson = { endpoint: 'http://x.example/1', expirationTime: -5, keys: { p256dh: 'AAAA', auth: 'AAAA' } };
    expect(fields(s)).toEqual(['endpoint', 'expirationTime', 'keys.p256dh', 'keys.auth']);
    given([]).when(subscribe(s)).thenThrows('invalid', 'invalid_push_subscription');
  });
});

describe('subscribing again', () => {
  it('with the same endpoint, keys and expirationTime appends nothing', () => {
    const chrome = browser(1);
    given([added(chrome)]).when(subscribe({ ...chrome, keys: { ...chrome.keys } }, 9)).thenNothing();
  });

  it('with the same keys padded appends nothing', () => {
    const chrome = browser(1);
    given([added(chrome)]).when(subscribe({ ...chrome, keys: { p256dh: `${chrome.keys.p256dh}=`, auth: `${chrome.keys.auth}==` } }, 9)).thenNothing();
  });

  it('with new keys for the same endpoint replaces it', () => {
    const before = browser(1);
    const after = browser(1);
    given([added(before)]).when(subscribe(after, 9)).then([removed(before, 'replaced', 9), added(after, 9)]);
  });

  it('with a new expirationTime replaces it', () => {
    const before = browser(1);
    const after = { ...before, expirationTime: 1767225600000 };
    given([added(before)]).when(subscribe(after, 9)).then([removed(before, 'replaced', 9), added(after, 9)]);
  });

  it('after unsubscribing adds it again', () => {
    const chrome = browser(1);
    given([added(chrome), removed(chrome, 'unsubscribed', 2)]).when(subscribe(chrome, 9)).then([added(chrome, 9)]);
  });
});

describe('the cap of 10 browsers per employee', () => {
  const ten = Array.from({ length: 10 }, (_, i) => browser(i));

  it('an 11th subscription drops the oldest', () => {
    const eleventh = browser(10);
    given(ten.map((s, i) => added(s, i)))
      .when(subscribe(eleventh, 20))
      .then([removed(ten[0]!, 'cap', 20), added(eleventh, 20)]);
  });

  it('"oldest" is by when it was (re)subscribed: a replaced one counts as new', () => {
    const renewed = browser(0);
    const eleventh = browser(10);
    given([...ten.map((s, i) => added(s, i)), removed(ten[0]!, 'replaced', 15), added(renewed, 15)])
      .when(subscribe(eleventh, 20))
      .then([removed(ten[1]!, 'cap', 20), added(eleventh, 20)]);
  });

  it('replacing one of ten keeps all ten', () => {
    const renewed = browser(3);
    given(ten.map((s, i) => added(s, i)))
      .when(subscribe(renewed, 20))
      .then([removed(ten[3]!, 'replaced', 20), added(renewed, 20)]);
  });

  it('takes the cap as a parameter', () => {
    const three = [browser(0), browser(1), browser(2)];
    const fourth = browser(3);
    given(three.map((s, i) => added(s, i)))
      .when((state) => decideSubscribe(state, { propertyId, subscription: fourth, allowHttpEndpoints: false }, alice.id, at(9), 2))
      .then([removed(three[0]!, 'cap', 9), removed(three[1]!, 'cap', 9), added(fourth, 9)]);
  });
});

describe('unsubscribing', () => {
  it('removes the subscription of that endpoint', () => {
    const chrome = browser(1);
    given([added(chrome), added(browser(2))])
      .when((state) => decideUnsubscribe(state, chrome.endpoint, alice.id, at(9)))
      .then([removed(chrome, 'unsubscribed', 9)]);
  });

  it('an unknown endpoint is not found', () => {
    given([added(browser(1))])
      .when((state) => decideUnsubscribe(state, browser(2).endpoint, alice.id, at(9)))
      .thenThrows('not_found', 'push_subscription_not_found');
  });

  it('an endpoint already unsubscribed is not found', () => {
    const chrome = browser(1);
    given([added(chrome), removed(chrome, 'unsubscribed', 2)])
      .when((state) => decideUnsubscribe(state, chrome.endpoint, alice.id, at(9)))
      .thenThrows('not_found', 'push_subscription_not_found');
  });
});

describe('a subscription the push service calls gone (404/410)', () => {
  it('is removed with the status', () => {
    const chrome = browser(1);
    given([added(chrome)])
      .when((state) => decideSubscriptionGone(state, idOf(chrome), 410, at(9)))
      .then([removed(chrome, 'gone', 9, 410)]);
  });

  it('that is already gone records nothing', () => {
    const chrome = browser(1);
    given([added(chrome), removed(chrome, 'gone', 2, 404)])
      .when((state) => decideSubscriptionGone(state, idOf(chrome), 410, at(9)))
      .thenNothing();
    given([]).when((state) => decideSubscriptionGone(state, idOf(chrome), 404, at(9))).thenNothing();
  });
});

describe('the employee stream', () => {
  it('lists active subscriptions oldest first', () => {
    const [a, b, c] = [browser(1), browser(2), browser(3)];
    const state = given([added(a, 1), added(b, 2), added(c, 3), removed(b, 'unsubscribed', 4), removed(a, 'replaced', 5), added(a, 5)]).state;
    expect(state.subscriptions.map((s) => [s.endpoint, s.createdAt])).toEqual([
      [c.endpoint, at(3)],
      [a.endpoint, at(5)],
    ]);
  });

  it('push subscription events change no personal setting, and settings events no subscription', () => {
    const settingsChanged: EmployeeEvent = {
      type: 'PersonalSettingsChanged',
      data: { ...DEFAULT_PERSONAL_SETTINGS, incomingSupportRequests: true, employeeId: alice.id, at: at(1) },
    };
    const mixed = [settingsChanged, added(browser(1), 2), removed(browser(1), 'unsubscribed', 3)] as unknown[];
    const settings = mixed.reduce(evolvePersonalSettings as (s: unknown, e: unknown) => unknown, DEFAULT_PERSONAL_SETTINGS);
    expect(settings).toEqual({ ...DEFAULT_PERSONAL_SETTINGS, incomingSupportRequests: true });
    const subs = [settingsChanged, added(browser(1), 2)].reduce(
      evolvePushSubscriptions as (s: unknown, e: unknown) => unknown,
      initialPushSubscriptionState(),
    ) as PushSubscriptionState;
    expect(subs.subscriptions.map((s) => s.endpoint)).toEqual([browser(1).endpoint]);
  });
});

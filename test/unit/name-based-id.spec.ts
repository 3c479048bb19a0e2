import { describe, expect, it } from '@jest/globals';
import { v5 as uuidv5, validate, version } from 'uuid';
import { uuidV5 } from '../../src/domain/name-based-id.js';

describe('uuidV5 (name-based ids for events, messages, alerts)', () => {
  const namespaces = ['b8a4c1d2-3e5f-4a6b-8c7d-9e0f1a2b3c4d', '0C6F8F0E-54A4-4D0E-A7A4-3C2F4F6E9B11', uuidv5.URL];
  const names = ['', 'a', 'command-1:0', 'e:p1:emp|take-over:42|key', 'ünïcødé ✓ 𝄞', 'x'.repeat(1000), ...Array.from({ length: 500 }, (_, i) => `${i}:${i * 7919}`)];

  it('gives exactly the ids of the uuid package (RFC 9562 version 5)', () => {
    for (const ns of namespaces) for (const name of names) expect(uuidV5(name, ns)).toBe(uuidv5(name, ns));
  });

  it('gives valid version-5 UUIDs, the same for the same name and different for different names', () => {
    const id = uuidV5('hello', namespaces[0]!);
    expect(validate(id) && version(id)).toBe(5);
    expect(uuidV5('hello', namespaces[0]!)).toBe(id);
    expect(uuidV5('hello!', namespaces[0]!)).not.toBe(id);
    expect(uuidV5('hello', namespaces[1]!)).not.toBe(id);
  });

  it('refuses a namespace that is not a UUID', () => {
    expect(() => uuidV5('x', 'not-a-uuid')).toThrow(TypeError);
  });
});

/**
 * The embedded idempotency store: a bounded Map in this process. Entries expire after their
 * TTL (checked on access, swept when the map is full); beyond `maxEntries` the oldest entries
 * are dropped (their retries then run again; event ids derived from the key still make such a
 * retry append nothing). Answers are kept as JSON text, so a replay is a copy, exactly as it
 * would come back from Redis.
 */
import { randomUUID } from 'node:crypto';
import {
  type BeginResult,
  type IdempotencyStore,
  type IdempotencyStoreOptions,
  type IdempotentAnswer,
  checkTtls,
} from '../../application/ports/idempotency-store.js';

type Entry =
  | { state: 'in_flight'; fingerprint: string; token: string; expiresAt: number }
  | { state: 'done'; fingerprint: string; token: string; answer: string; expiresAt: number };

export interface InProcessIdempotencyStoreOptions extends IdempotencyStoreOptions {
  /** Keys kept at most; default 10 000. */
  maxEntries?: number;
}

export class InProcessIdempotencyStore implements IdempotencyStore {
  private readonly entries = new Map<string, Entry>();
  private readonly ttlMs: number;
  private readonly inFlightTtlMs: number;
  private readonly maxEntries: number;
  private lastSweep = 0;

  constructor(options: InProcessIdempotencyStoreOptions = {}) {
    ({ ttlMs: this.ttlMs, inFlightTtlMs: this.inFlightTtlMs } = checkTtls(options));
    this.maxEntries = options.maxEntries ?? 10_000;
    if (!Number.isInteger(this.maxEntries) || this.maxEntries < 1) {
      throw new Error(`InProcessIdempotencyStore maxEntries must be a positive integer (got ${this.maxEntries})`);
    }
  }

  async begin(key: string, fingerprint: string): Promise<BeginResult> {
    const current = this.live(key);
    if (current) {
      if (current.fingerprint !== fingerprint) return { state: 'mismatch' };
      return current.state === 'done' ? { state: 'done', answer: JSON.parse(current.answer) as IdempotentAnswer } : { state: 'in_flight' };
    }
    const token = randomUUID();
    this.put(key, { state: 'in_flight', fingerprint, token, expiresAt: Date.now() + this.inFlightTtlMs });
    return { state: 'new', token };
  }

  async complete(key: string, token: string, answer: IdempotentAnswer): Promise<void> {
    const current = this.live(key);
    if (current && (current.token !== token || current.state === 'done')) return;
    const fingerprint = current?.fingerprint;
    if (fingerprint === undefined) {
      // The marker expired meanwhile and nobody took the key: we cannot know the fingerprint,
      // so the answer cannot be checked against retries. Leave the key free.
      return;
    }
    this.put(key, { state: 'done', fingerprint, token, answer: JSON.stringify(answer), expiresAt: Date.now() + this.ttlMs });
  }

  async abandon(key: string, token: string): Promise<void> {
    const current = this.live(key);
    if (current?.state === 'in_flight' && current.token === token) this.entries.delete(key);
  }

  async close(): Promise<void> {
    this.entries.clear();
  }

  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt <= Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  private put(key: string, entry: Entry): void {
    this.entries.delete(key); // re-insert: Map order stays (roughly) oldest first
    if (this.entries.size >= this.maxEntries) this.makeRoom();
    this.entries.set(key, entry);
  }

  private makeRoom(): void {
    const now = Date.now();
    if (now - this.lastSweep >= 1000) {
      this.lastSweep = now;
      for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
    }
    for (const key of this.entries.keys()) {
      if (this.entries.size < this.maxEntries) break;
      this.entries.delete(key);
    }
  }
}

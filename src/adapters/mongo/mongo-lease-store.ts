/**
 * Leases on MongoDB (production) and FerretDB 1.24 (tests), in the `leases` collection.
 *
 * Why not the obvious single document per lease, taken over with
 * `updateOne({ _id, $or: [{ owner }, { expiresAt: { $lt: now } }] }, { $set }, { upsert })`:
 * that is atomic on MongoDB, but FerretDB 1.24 runs an update as "query, filter in Go, then
 * write by _id" with no condition on the write (handler/common/update.go, sqlite
 * collection.UpdateAll), so several contenders that all read the expired document all "win"
 * (measured: 28 of 30 rounds of 10 contenders had several winners). Deletes are the same.
 * The only atomic primitive both servers share is an insert colliding on a unique `_id`.
 *
 * So a lease is a sequence of terms, one document each:
 * `{ _id: "<name>#<term>", name, term, owner, expiresAt }`, unique on (name, term). The
 * latest term decides.
 * - Take over (free or expired) and renew (ours) alike: insert term + 1. Exactly one
 *   contender's insert of a term succeeds; the others get duplicate key 11000, i.e. "held by
 *   someone else". Renewing by insert, not by updating our term, matters: FerretDB's reads
 *   may lag a concurrent update (CI once saw two holders with update-based renewals), but a
 *   stale read only makes a contender insert a term that exists, which fails.
 * - Terms more than PRUNE_MARGIN behind are deleted; the winner re-reads and only counts a
 *   term that is still the latest.
 * - Release: set `expiresAt: 0` on our terms.
 * No transactions; times are the caller's `Date.now()` (see the port).
 */
import { type Collection, type MongoClient, MongoServerError } from 'mongodb';
import type { LeaseHolder, LeaseStore } from '../../application/ports/lease.js';
import { type MongoConnectOptions, connectMongo } from './mongo-connection.js';

const COLLECTION = 'leases';
const DUPLICATE_KEY = 11000;
/** Terms kept behind the latest (renewals every ttl/3: 100 terms ≈ 3 minutes at ttl 5 s). */
const PRUNE_MARGIN = 100;

interface TermDoc {
  _id: string;
  name: string;
  term: number;
  owner: string;
  expiresAt: number;
}

export type MongoLeaseStoreOptions = MongoConnectOptions;

const termId = (name: string, term: number) => `${name}#${term}`;


export class MongoLeaseStore implements LeaseStore {
  private constructor(
    private readonly client: MongoClient,
    private readonly leases: Collection<TermDoc>,
  ) {}

  static async connect(url: string, options: MongoLeaseStoreOptions = {}): Promise<MongoLeaseStore> {
    const { client, db } = await connectMongo(url, options, { maxPoolSize: 4 });
    const leases = db.collection<TermDoc>(COLLECTION);
    // FerretDB 1.24 on SQLite checks `_id` uniqueness in Go before writing, so two concurrent
    // inserts of one `_id` can both succeed (seen in CI: two holders at once). An explicit
    // unique index is enforced by SQLite itself, atomically, on both servers.
    await leases.createIndex({ name: 1, term: 1 }, { unique: true });
    return new MongoLeaseStore(client, leases);
  }

  /** The collection holds one document per lease name (two briefly, during a takeover). */
  private latest(name: string): Promise<TermDoc | null> {
    return this.leases.findOne({ name }, { sort: { term: -1 } });
  }

  async tryAcquire(name: string, owner: string, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    const current = await this.latest(name);
    if (current && current.expiresAt > now && current.owner !== owner) return false;
    // Free, expired, or ours (a renewal): claim the next term. Exactly one insert of a term
    // succeeds, whatever (possibly stale) state each contender read.
    const term = (current?.term ?? 0) + 1;
    try {
      await this.leases.insertOne({ _id: termId(name, term), name, term, owner, expiresAt: now + ttlMs });
    } catch (error) {
      if (error instanceof MongoServerError && error.code === DUPLICATE_KEY) return false;
      throw error;
    }
    // Old terms go, but not the recent ones: a contender whose read is stale by less than
    // PRUNE_MARGIN terms must still collide with an existing term.
    await this.leases.deleteMany({ name, term: { $lt: term - PRUNE_MARGIN } });
    const after = await this.latest(name);
    return after?._id === termId(name, term) && after.owner === owner;
  }

  async release(name: string, owner: string): Promise<void> {
    await this.leases.updateMany({ name, owner }, { $set: { expiresAt: 0 } });
  }

  async holder(name: string): Promise<LeaseHolder | null> {
    const current = await this.latest(name);
    return current && current.expiresAt > Date.now() ? { owner: current.owner, expiresAt: current.expiresAt } : null;
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

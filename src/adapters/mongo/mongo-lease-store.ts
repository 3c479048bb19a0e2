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
 * `{ _id: "<name>#<term>", name, term, owner, expiresAt }`. The latest term decides.
 * - Take over (lease free, expired, or even our own but expired): insert term + 1. Exactly one
 *   contender's insert succeeds; the others get duplicate key 11000, i.e. "held by someone else".
 *   The winner then prunes older terms and checks that its term is still the latest (a contender
 *   whose read was so stale that the term it inserts had been pruned must not win).
 * - Renew (latest term is ours and unexpired): update that term's `expiresAt`. Only its owner
 *   ever writes a term document, so the update cannot be lost to a contender; but it may land
 *   after the term expired and someone inserted the next term, so a renewal counts only when it
 *   completed before the expiry it extends.
 * - Release: set `expiresAt: 0` on our terms.
 * No transactions; times are the caller's `Date.now()` (see the port).
 */
import { type Collection, type MongoClient, MongoServerError } from 'mongodb';
import type { LeaseHolder, LeaseStore } from '../../application/ports/lease.js';
import { type MongoConnectOptions, connectMongo } from './mongo-connection.js';

const COLLECTION = 'leases';
const DUPLICATE_KEY = 11000;

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
    return new MongoLeaseStore(client, db.collection<TermDoc>(COLLECTION));
  }

  /** No index: the collection holds one document per lease name (two briefly, during a takeover). */
  private latest(name: string): Promise<TermDoc | null> {
    return this.leases.findOne({ name }, { sort: { term: -1 } });
  }

  async tryAcquire(name: string, owner: string, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    const current = await this.latest(name);
    if (current && current.expiresAt > now) {
      if (current.owner !== owner) return false;
      const renewed = await this.leases.updateOne({ _id: current._id, owner }, { $set: { expiresAt: now + ttlMs } });
      // Landed after the term ran out: someone may have taken the next term meanwhile.
      return renewed.matchedCount === 1 && Date.now() < current.expiresAt;
    }
    const term = (current?.term ?? 0) + 1;
    try {
      await this.leases.insertOne({ _id: termId(name, term), name, term, owner, expiresAt: now + ttlMs });
    } catch (error) {
      if (error instanceof MongoServerError && error.code === DUPLICATE_KEY) return false;
      throw error;
    }
    await this.leases.deleteMany({ name, term: { $lt: term } });
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

/**
 * Leases in a `leases` table of an SQLite file (the embedded default uses the read-model file,
 * DATA_DIR/read-models.db), one row per lease. Acquire/renew is one conditional upsert inside
 * `BEGIN IMMEDIATE`, so it is atomic across every connection and process on the file:
 * the row is taken over only when it is ours or expired. Times are the caller's `Date.now()`
 * (see the port for the clock assumption).
 */
import Database from 'better-sqlite3';
import type { LeaseHolder, LeaseStore } from '../../application/ports/lease.js';

export class SqliteLeaseStore implements LeaseStore {
  private readonly db: Database.Database;
  private readonly acquire: (name: string, owner: string, now: number, expiresAt: number) => boolean;
  private readonly releaseStatement: Database.Statement;
  private readonly holderStatement: Database.Statement;

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    // Waits for other writers on the file (e.g. a read-model commit); bounded well below a lease ttl.
    this.db.pragma('busy_timeout = 2000');
    this.db.exec('CREATE TABLE IF NOT EXISTS leases (name TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at INTEGER NOT NULL)');
    const upsert = this.db.prepare(
      `INSERT INTO leases (name, owner, expires_at) VALUES (@name, @owner, @expiresAt)
       ON CONFLICT(name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
       WHERE leases.owner = excluded.owner OR leases.expires_at <= @now`,
    );
    const transaction = this.db.transaction(
      (name: string, owner: string, now: number, expiresAt: number) => upsert.run({ name, owner, now, expiresAt }).changes === 1,
    );
    this.acquire = (name, owner, now, expiresAt) => transaction.immediate(name, owner, now, expiresAt);
    this.releaseStatement = this.db.prepare('DELETE FROM leases WHERE name = ? AND owner = ?');
    this.holderStatement = this.db.prepare('SELECT owner, expires_at AS expiresAt FROM leases WHERE name = ? AND expires_at > ?');
  }

  async tryAcquire(name: string, owner: string, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    return this.acquire(name, owner, now, now + ttlMs);
  }

  async release(name: string, owner: string): Promise<void> {
    this.releaseStatement.run(name, owner);
  }

  async holder(name: string): Promise<LeaseHolder | null> {
    const row = this.holderStatement.get(name, Date.now()) as { owner: string; expiresAt: number } | undefined;
    return row ? { owner: row.owner, expiresAt: Number(row.expiresAt) } : null;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

// Group-commit effectiveness, read after the fact from the service's events.db: the embedded
// store stamps every event of one commit batch with the same recorded_at, so grouping by it
// gives the batches (two batches in the same millisecond would merge; rare, fsync takes longer).
import Database from 'better-sqlite3';
import { summarize, round } from './stats.mjs';

export function commitBatches(file, fromIso, toIso) {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const rows = db
      .prepare('SELECT recorded_at AS at, count(*) AS n FROM events WHERE recorded_at >= ? AND recorded_at <= ? GROUP BY recorded_at ORDER BY recorded_at')
      .all(fromIso, toIso);
    if (rows.length === 0) return null;
    const sizes = rows.map((r) => Number(r.n));
    const events = sizes.reduce((a, b) => a + b, 0);
    const seconds = (Date.parse(rows[rows.length - 1].at) - Date.parse(rows[0].at)) / 1000 || 1;
    return {
      batches: rows.length,
      events,
      commitsPerSec: round(rows.length / seconds, 0),
      eventsPerSec: round(events / seconds, 0),
      eventsPerBatch: summarize(sizes),
    };
  } finally {
    db.close();
  }
}

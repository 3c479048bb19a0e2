/**
 * The change feed behind Server-Sent Events: what projections publish after they commit,
 * shared by every API instance (Redis in production, in process when embedded).
 *
 * Entry ids are `${eventPosition}-${n}`: ordered like the log, so they double as SSE ids,
 * and a projector that replays an event after a crash republishes the same ids, which the
 * feed ignores (ids only grow).
 */
export type ChangeType = 'conversation.updated' | 'message.created' | 'alert.created';

export interface ChangeEntry {
  id: string;
  type: ChangeType;
  propertyId: string;
  conversationId: string;
  /** Set when only one employee may see the entry (alerts). */
  employeeId?: string;
  data: Record<string, unknown>;
}

export interface FeedRead {
  entries: ChangeEntry[];
  /** The requested id is older than what the feed retains: the client must refetch. */
  tooOld: boolean;
}

export interface ChangeFeed {
  publish(entries: ChangeEntry[]): Promise<void>;
  /** Entries strictly after `afterId`, oldest first. */
  readAfter(afterId: string, limit: number): Promise<FeedRead>;
  /**
   * Id of the newest entry (or the position the feed starts from); where a new stream begins.
   * Never below an id the feed handed out, so an id above it was not handed out by this feed
   * (another store, or a feed that was reset): SSE answers it with `reset`, not a wait.
   */
  lastId(): Promise<string>;
  /** Live entries, in order, from now on. Returns the unsubscribe function. */
  subscribe(listener: (entry: ChangeEntry) => void): () => void;
  close(): Promise<void>;
}

export function parseChangeId(id: string): [bigint, bigint] | null {
  const m = /^(\d{1,19})-(\d{1,9})$/.exec(id);
  return m ? [BigInt(m[1]!), BigInt(m[2]!)] : null;
}

export function compareChangeIds(a: string, b: string): number {
  const pa = parseChangeId(a) ?? [0n, 0n];
  const pb = parseChangeId(b) ?? [0n, 0n];
  if (pa[0] !== pb[0]) return pa[0] < pb[0] ? -1 : 1;
  if (pa[1] !== pb[1]) return pa[1] < pb[1] ? -1 : 1;
  return 0;
}

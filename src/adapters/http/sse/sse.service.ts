/**
 * Server-Sent Events (SPEC §3). Ids are change-feed ids (log positions), payloads are state
 * for the viewer. Resume: subscribe to live entries first, then replay everything after
 * Last-Event-ID from the feed, then drain the live buffer skipping ids already sent — no
 * loss, no duplicates. An id the feed cannot resume from — no longer held, not an id, or
 * beyond the feed's last id (another or a reset store) — gets an explicit `reset` event, then
 * the stream starts fresh (`ready`).
 *
 * A stream ends on our side when (the client resumes each time with Last-Event-ID):
 * - its token expires (`req.tokenExpiresAtMs`, set by the AuthGuard): the client renews it;
 * - the client lets more than `maxBufferedBytes` pile up unread: its socket is reset, which
 *   also frees what the kernel holds for it (ending the response alone kept the socket open).
 *   A replay (resume) sends a page at a time and waits for the client to read it (at most
 *   REPLAY_DRAIN_TIMEOUT_MS), so a long resume is not mistaken for a client that does not read;
 * - the process shuts down (beforeApplicationShutdown, i.e. before the HTTP server closes,
 *   which would otherwise wait for every open stream): ended cleanly, socket closed.
 * Streams per principal and per client address are capped (stream-caps.ts): over a cap is a
 * 429 `too_many_streams` with Retry-After, answered before the response is taken over.
 *
 * Written by hand on the raw response rather than Nest's @Sse(): @Sse numbers events per
 * connection (meaningless for Last-Event-ID) and offers no control over buffering.
 */
import { type BeforeApplicationShutdown, HttpException, Inject, Injectable, Logger, UnauthorizedException } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type ChangeEntry, type ChangeFeed, compareChangeIds, parseChangeId } from '../../../application/ports/change-feed.js';
import { CHANGE_FEED, METRICS } from '../../../application/ports/tokens.js';
import type { Metrics } from '../../observability/metrics.js';
import { type ConversationSnapshot, employeeConversationView, guestConversationView, guestMessageView } from '../../../application/views.js';
import type { EmployeeRole } from '../../../domain/conversation.js';
import { DomainError } from '../../../domain/errors.js';
import { clientAddress } from '../client-address.js';
import { type StreamCapLimits, StreamCaps } from './stream-caps.js';

export type Audience =
  /** The role too: an employee's actions (close, release, reassign) depend on it. */
  | { kind: 'employee'; propertyId: string; employeeId: string; role: EmployeeRole }
  | { kind: 'guest'; propertyId: string; conversationId: string };

export const SSE_OPTIONS = Symbol('SseOptions');
export interface SseOptions {
  heartbeatMs: number;
  /** A client that lets this much pile up unread is disconnected; it resumes with Last-Event-ID. */
  maxBufferedBytes: number;
  /** Open streams per principal and per client address (0 = no cap). */
  caps: StreamCapLimits;
}

const REPLAY_PAGE = 500;
/** A client over a stream cap may try again after this long (streams are long-lived: no exact time exists). */
const CAP_RETRY_AFTER_SECONDS = 10;
/** A replay waits this long for the client to read a page before it is treated as not reading. */
const REPLAY_DRAIN_TIMEOUT_MS = 30_000;
/** At shutdown, how long an ended stream may take to flush before its socket is destroyed. */
const SHUTDOWN_FLUSH_MS = 500;

/** Why a stream ended: the client left, or we ended it (see the file comment). */
type EndReason = 'client' | 'overflow' | 'token_expired' | 'shutdown' | 'error';

/** Why a `reset` event was sent: the Last-Event-ID is older than the feed holds, not an id, or newer than the feed. */
export type ResetReason = 'last_event_id_too_old' | 'last_event_id_malformed' | 'last_event_id_ahead';

@Injectable()
export class SseService implements BeforeApplicationShutdown {
  private readonly logger = new Logger('SseService');
  /** Each open stream's end(), to end them all at shutdown. */
  private readonly open_ = new Set<(reason: EndReason) => Promise<void>>();
  private readonly caps: StreamCaps;
  private closing = false;

  constructor(
    @Inject(CHANGE_FEED) private readonly feed: ChangeFeed,
    @Inject(SSE_OPTIONS) private readonly options: SseOptions,
    @Inject(METRICS) private readonly metrics: Metrics,
  ) {
    this.caps = new StreamCaps(options.caps);
  }

  get connections(): number {
    return this.open_.size;
  }

  async open(req: FastifyRequest, reply: FastifyReply, audience: Audience, lastEventIdQuery?: string): Promise<void> {
    if (this.closing) {
      void reply.header('retry-after', '1');
      throw new DomainError('unavailable', 'shutting_down', 'The service is shutting down; reconnect (with Last-Event-ID) in a moment');
    }
    const expiresAtMs = req.tokenExpiresAtMs;
    // Within the verifier's clock tolerance an expired token still passes: a stream would end at once, and the client loop.
    if (expiresAtMs !== undefined && expiresAtMs <= Date.now()) {
      throw new UnauthorizedException({ message: 'Token expired: renew it and reconnect with Last-Event-ID', code: 'token_expired' });
    }
    const slot = this.caps.acquire(principalKey(audience), clientAddress(req));
    if ('refused' in slot) {
      const limit = slot.refused === 'principal' ? this.options.caps.perPrincipal : this.options.caps.perAddress;
      void reply.header('retry-after', String(CAP_RETRY_AFTER_SECONDS));
      throw new HttpException(
        {
          message: `Too many open event streams for this ${slot.refused === 'principal' ? (audience.kind === 'guest' ? 'conversation' : 'employee') : 'client address'} (at most ${limit}); close one first`,
          code: 'too_many_streams',
          details: { cap: slot.refused, limit },
        },
        429,
      );
    }

    const header = req.headers['last-event-id'];
    const requested = (Array.isArray(header) ? header[0] : header) ?? lastEventIdQuery;
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      // What hooks set on the reply (CORS, security headers, X-Request-Id): hijacking skips Fastify's own writeHead.
      ...(reply.getHeaders() as Record<string, string | number | string[]>),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.flushHeaders();

    let lastSent = '0-0';
    let replaying = true;
    const buffered: ChangeEntry[] = [];
    let closed = false;

    const write = (chunk: string) => {
      if (closed) return;
      res.write(chunk);
      // While replaying, pages wait for the client instead (below): a long resume is not a slow client.
      if (!replaying && res.writableLength > this.options.maxBufferedBytes) void end('overflow');
    };
    const send = (entry: ChangeEntry) => {
      if (compareChangeIds(entry.id, lastSent) <= 0) return;
      lastSent = entry.id;
      const payload = viewFor(entry, audience);
      if (payload) write(`id: ${entry.id}\nevent: ${entry.type}\ndata: ${JSON.stringify(payload)}\n\n`);
    };
    const unsubscribe = this.feed.subscribe((entry) => {
      if (!visibleTo(entry, audience)) return;
      if (replaying) buffered.push(entry);
      else send(entry);
    });
    const heartbeat = setInterval(() => write(`: heartbeat ${Date.now()}\n\n`), this.options.heartbeatMs);
    const cancelExpiry = expiresAtMs === undefined ? () => undefined : runAt(expiresAtMs, () => void end('token_expired'));
    const end = (reason: EndReason): Promise<void> => {
      if (closed) return Promise.resolve();
      if (reason === 'token_expired') res.write(': token expired: renew it and reconnect with Last-Event-ID\n\n');
      closed = true;
      clearInterval(heartbeat);
      cancelExpiry();
      unsubscribe();
      slot.release();
      this.open_.delete(end);
      this.metrics.sseConnections.dec();
      return finish(res, reason);
    };
    this.open_.add(end);
    this.metrics.sseConnections.inc();
    res.on('close', () => void end('client'));

    // A fresh stream starts now; its first id lets the client resume from here. An id we
    // cannot resume from is never silence (SPEC §3): `reset` first, then the same fresh start.
    const ready = async (reset?: ResetReason) => {
      lastSent = await this.feed.lastId();
      if (reset) write(`id: ${lastSent}\nevent: reset\ndata: ${JSON.stringify({ reason: reset, refetch: true })}\n\n`);
      write(`id: ${lastSent}\nevent: ready\ndata: {}\n\n`);
    };

    try {
      write('retry: 2000\n\n');
      if (requested === undefined || requested === '') {
        await ready();
      } else if (parseChangeId(requested) === null) {
        await ready('last_event_id_malformed');
      } else if (compareChangeIds(requested, await this.feed.lastId()) > 0) {
        // Beyond anything this feed handed out (another or a reset store): replaying would wait forever.
        await ready('last_event_id_ahead');
      } else {
        lastSent = requested;
        for (;;) {
          const page = await this.feed.readAfter(lastSent, REPLAY_PAGE);
          if (page.tooOld) {
            await ready('last_event_id_too_old');
            break;
          }
          const visible = page.entries.filter((e) => visibleTo(e, audience));
          visible.forEach(send);
          if (page.entries.length < REPLAY_PAGE) break;
          const newest = page.entries[page.entries.length - 1]!.id;
          if (compareChangeIds(newest, lastSent) > 0) lastSent = newest;
          // The next page only once the client has read this one (bounded): a client that
          // does not read during a replay is treated like one that does not read live.
          if (!(await this.readBy(res))) {
            void end('overflow');
            return;
          }
          if (closed) return;
        }
      }
    } catch (error) {
      void end('error');
      throw error;
    }
    replaying = false;
    buffered.forEach(send);
    buffered.length = 0;
  }

  /** Whether the client reads what is buffered for it down to the limit, within REPLAY_DRAIN_TIMEOUT_MS. */
  private readBy(res: FastifyReply['raw']): Promise<boolean> {
    if (res.writableLength <= this.options.maxBufferedBytes) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (read: boolean) => {
        clearTimeout(timer);
        res.off('drain', onDrain);
        res.off('close', onClose);
        resolve(read);
      };
      const onDrain = () => done(true);
      const onClose = () => done(false);
      const timer = setTimeout(() => done(false), REPLAY_DRAIN_TIMEOUT_MS);
      res.on('drain', onDrain);
      res.on('close', onClose);
    });
  }

  /**
   * Before the HTTP server closes (it waits for open connections, and a stream never ends by
   * itself): refuse new streams, end every open one and wait until their sockets are closed.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.closing = true;
    const open = [...this.open_];
    await Promise.all(open.map((end) => end('shutdown')));
    if (open.length > 0) this.logger.log(`ended ${open.length} event stream(s) for shutdown; clients resume with Last-Event-ID`);
  }
}

function principalKey(audience: Audience): string {
  return audience.kind === 'guest' ? `guest:${audience.conversationId}` : `employee:${audience.propertyId}:${audience.employeeId}`;
}

/**
 * Ends the response for `reason`. A client that does not read gets its socket reset: a
 * graceful close would leave the unread bytes in the kernel until TCP gives up. At shutdown
 * the stream ends cleanly (EventSource reconnects) and the socket closes once flushed, or
 * is destroyed after SHUTDOWN_FLUSH_MS. Resolves when the socket is closed (shutdown) or at once.
 */
function finish(res: FastifyReply['raw'], reason: EndReason): Promise<void> {
  const socket = res.socket;
  if (reason === 'client') return Promise.resolve();
  if (reason === 'overflow') {
    if (socket && !socket.destroyed) socket.resetAndDestroy();
    else res.destroy();
    return Promise.resolve();
  }
  if (reason !== 'shutdown' || !socket || socket.destroyed) {
    res.end();
    return Promise.resolve();
  }
  return new Promise<void>((resolve) => {
    const force = setTimeout(() => socket.destroy(), SHUTDOWN_FLUSH_MS);
    socket.once('close', () => {
      clearTimeout(force);
      resolve();
    });
    res.end(() => socket.end());
  });
}

/** setTimeout for a moment that may be more than ~24.8 days away (setTimeout's limit; beyond it Node fires at once). */
function runAt(atMs: number, run: () => void): () => void {
  const MAX_DELAY = 2 ** 31 - 1;
  let timer: NodeJS.Timeout;
  const arm = () => {
    const left = atMs - Date.now();
    timer = left > MAX_DELAY ? setTimeout(arm, MAX_DELAY) : setTimeout(run, Math.max(0, left));
  };
  arm();
  return () => clearTimeout(timer);
}

function visibleTo(entry: ChangeEntry, audience: Audience): boolean {
  if (entry.propertyId !== audience.propertyId) return false;
  if (audience.kind === 'guest') return entry.conversationId === audience.conversationId && entry.type !== 'alert.created';
  return entry.employeeId === undefined || entry.employeeId === audience.employeeId;
}

function viewFor(entry: ChangeEntry, audience: Audience): unknown {
  if (!visibleTo(entry, audience)) return null;
  if (audience.kind === 'guest') return guestViewFor(entry);
  if (entry.type === 'conversation.updated') {
    const snapshot = entry.data.conversation as ConversationSnapshot;
    return { conversation: employeeConversationView(snapshot, { id: audience.employeeId, role: audience.role }) };
  }
  return entry.data;
}

/** Guests get only what has a guest view (no employee ids, SPEC §2); any other entry type is not sent. */
function guestViewFor(entry: ChangeEntry): unknown {
  switch (entry.type) {
    case 'conversation.updated':
      return { conversation: guestConversationView(entry.data.conversation as ConversationSnapshot) };
    case 'message.created':
      return { message: guestMessageView(entry.data.message as Parameters<typeof guestMessageView>[0]) };
    default:
      return null;
  }
}

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
 * Many streams on one instance (issue 10): one feed subscription, one rendering per viewer kind
 * and one write per stream per change (fan-out.ts), one heartbeat timer (heartbeat.ts).
 *
 * Written by hand on the raw response rather than Nest's @Sse(): @Sse numbers events per
 * connection (meaningless for Last-Event-ID) and offers no control over buffering.
 */
import { type BeforeApplicationShutdown, HttpException, Inject, Injectable, Logger, UnauthorizedException } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type ChangeFeed, compareChangeIds, parseChangeId } from '../../../application/ports/change-feed.js';
import { CHANGE_FEED, METRICS } from '../../../application/ports/tokens.js';
import type { Metrics } from '../../observability/metrics.js';
import { DomainError } from '../../../domain/errors.js';
import { clientAddress } from '../client-address.js';
import { FanOut } from './fan-out.js';
import type { Audience } from './frames.js';
import { Heartbeat } from './heartbeat.js';
import { SseStream } from './sse-stream.js';
import { type StreamCapLimits, StreamCaps } from './stream-caps.js';

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

/** Why a `reset` event was sent: the Last-Event-ID is older than the feed holds, not an id, or newer than the feed. */
export type ResetReason = 'last_event_id_too_old' | 'last_event_id_malformed' | 'last_event_id_ahead';

@Injectable()
export class SseService implements BeforeApplicationShutdown {
  private readonly logger = new Logger('SseService');
  /** Every open stream, to end them all at shutdown. */
  private readonly open_ = new Set<SseStream>();
  private readonly caps: StreamCaps;
  private readonly fanOut: FanOut;
  private readonly heartbeat: Heartbeat;
  private closing = false;

  constructor(
    @Inject(CHANGE_FEED) private readonly feed: ChangeFeed,
    @Inject(SSE_OPTIONS) private readonly options: SseOptions,
    @Inject(METRICS) private readonly metrics: Metrics,
  ) {
    this.caps = new StreamCaps(options.caps);
    this.fanOut = new FanOut(feed);
    this.heartbeat = new Heartbeat(options.heartbeatMs);
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
    const socket = res.socket;
    if (!socket || socket.destroyed) {
      slot.release(); // the client left already: nothing to stream to
      return;
    }

    const stream = new SseStream(audience, res, this.options.maxBufferedBytes, socket);
    // Live entries from now on, held back until the replay (if any) is done: no loss, no duplicates.
    stream.onEnd(this.fanOut.add(stream));
    stream.onEnd(this.heartbeat.add(stream));
    if (expiresAtMs !== undefined) stream.onEnd(runAt(expiresAtMs, () => void stream.end('token_expired')));
    stream.onEnd(slot.release);
    stream.onEnd(() => {
      this.open_.delete(stream);
      this.metrics.sseConnections.dec();
    });
    this.open_.add(stream);
    this.metrics.sseConnections.inc();
    res.on('close', () => void stream.end('client'));

    // A fresh stream starts now; its first id lets the client resume from here. An id we
    // cannot resume from is never silence (SPEC §3): `reset` first, then the same fresh start.
    const ready = async (reset?: ResetReason) => {
      const last = await this.feed.lastId();
      stream.startAfter(last);
      if (reset) stream.write(`id: ${last}\nevent: reset\ndata: ${JSON.stringify({ reason: reset, refetch: true })}\n\n`);
      stream.write(`id: ${last}\nevent: ready\ndata: {}\n\n`);
    };

    try {
      stream.write('retry: 2000\n\n');
      if (requested === undefined || requested === '') {
        await ready();
      } else if (parseChangeId(requested) === null) {
        await ready('last_event_id_malformed');
      } else if (compareChangeIds(requested, await this.feed.lastId()) > 0) {
        // Beyond anything this feed handed out (another or a reset store): replaying would wait forever.
        await ready('last_event_id_ahead');
      } else {
        stream.startAfter(requested);
        let from = requested;
        for (;;) {
          const page = await this.feed.readAfter(from, REPLAY_PAGE);
          if (page.tooOld) {
            await ready('last_event_id_too_old');
            break;
          }
          stream.replay(page.entries);
          if (page.entries.length < REPLAY_PAGE) break;
          from = page.entries[page.entries.length - 1]!.id;
          // The next page only once the client has read this one (bounded): a client that
          // does not read during a replay is treated like one that does not read live.
          if (!(await stream.readBy(REPLAY_DRAIN_TIMEOUT_MS))) {
            void stream.end('overflow');
            return;
          }
          if (stream.ended) return;
        }
      }
    } catch (error) {
      void stream.end('error');
      throw error;
    }
    stream.goLive();
  }

  /**
   * Before the HTTP server closes (it waits for open connections, and a stream never ends by
   * itself): refuse new streams, end every open one and wait until their sockets are closed.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.closing = true;
    const open = [...this.open_];
    await Promise.all(open.map((stream) => stream.end('shutdown')));
    if (open.length > 0) this.logger.log(`ended ${open.length} event stream(s) for shutdown; clients resume with Last-Event-ID`);
  }
}

function principalKey(audience: Audience): string {
  return audience.kind === 'guest' ? `guest:${audience.conversationId}` : `employee:${audience.propertyId}:${audience.employeeId}`;
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

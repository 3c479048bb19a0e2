/**
 * Server-Sent Events (SPEC §3). Ids are change-feed ids (log positions), payloads are state
 * for the viewer. Resume: subscribe to live entries first, then replay everything after
 * Last-Event-ID from the feed, then drain the live buffer skipping ids already sent — no
 * loss, no duplicates. An id the feed cannot resume from — no longer held, not an id, or
 * beyond the feed's last id (another or a reset store) — gets an explicit `reset` event, then
 * the stream starts fresh (`ready`).
 *
 * Written by hand on the raw response rather than Nest's @Sse(): @Sse numbers events per
 * connection (meaningless for Last-Event-ID) and offers no control over buffering.
 */
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type ChangeEntry, type ChangeFeed, compareChangeIds, parseChangeId } from '../../../application/ports/change-feed.js';
import { CHANGE_FEED, METRICS } from '../../../application/ports/tokens.js';
import type { Metrics } from '../../observability/metrics.js';
import { type ConversationSnapshot, employeeConversationView, guestConversationView, guestMessageView } from '../../../application/views.js';
import type { EmployeeRole } from '../../../domain/conversation.js';

export type Audience =
  /** The role too: an employee's actions (close, release, reassign) depend on it. */
  | { kind: 'employee'; propertyId: string; employeeId: string; role: EmployeeRole }
  | { kind: 'guest'; propertyId: string; conversationId: string };

export const SSE_OPTIONS = Symbol('SseOptions');
export interface SseOptions {
  heartbeatMs: number;
  /** A client that lets this much pile up unread is disconnected; it resumes with Last-Event-ID. */
  maxBufferedBytes: number;
}

const REPLAY_PAGE = 500;

/** Why a `reset` event was sent: the Last-Event-ID is older than the feed holds, not an id, or newer than the feed. */
export type ResetReason = 'last_event_id_too_old' | 'last_event_id_malformed' | 'last_event_id_ahead';

@Injectable()
export class SseService implements OnApplicationShutdown {
  private readonly open_ = new Set<() => void>();

  constructor(
    @Inject(CHANGE_FEED) private readonly feed: ChangeFeed,
    @Inject(SSE_OPTIONS) private readonly options: SseOptions,
    @Inject(METRICS) private readonly metrics: Metrics,
  ) {}

  get connections(): number {
    return this.open_.size;
  }

  async open(req: FastifyRequest, reply: FastifyReply, audience: Audience, lastEventIdQuery?: string): Promise<void> {
    const header = req.headers['last-event-id'];
    const requested = (Array.isArray(header) ? header[0] : header) ?? lastEventIdQuery;
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
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
      if (res.writableLength > this.options.maxBufferedBytes) close();
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
    const close = () => {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      unsubscribe();
      this.open_.delete(close);
      this.metrics.sseConnections.dec();
      res.end();
    };
    this.open_.add(close);
    this.metrics.sseConnections.inc();
    res.on('close', close);

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
        }
      }
    } catch (error) {
      close();
      throw error;
    }
    replaying = false;
    buffered.forEach(send);
    buffered.length = 0;
  }

  onApplicationShutdown(): void {
    for (const close of [...this.open_]) close();
  }
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

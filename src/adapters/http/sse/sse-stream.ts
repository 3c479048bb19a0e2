/**
 * One open SSE response: what it has sent (the last id, so a live entry that a replay already
 * sent is skipped), the live entries held back while a resume replays, and its end. See
 * sse.service.ts for the protocol and why a stream ends.
 *
 * After the head (res.writeHead + flushHeaders), frames go to the socket as ready-made bytes
 * (an HTTP chunk, as res.write would frame them; plain for an HTTP/1.0 client): a live frame is
 * encoded once for all streams that get it (`EncodedFrame`), not once per stream, and the live
 * frames of one tick (a command's entries arrive together) leave in one syscall (cork/uncork).
 * res.end() still writes the last chunk.
 */
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { type ChangeEntry, parseChangeId } from '../../../application/ports/change-feed.js';
import type { ChangePosition, LiveStream } from './fan-out.js';
import { type Audience, frameFor, visibleTo } from './frames.js';
import type { Beating } from './heartbeat.js';

/** Why a stream ended: the client left, or we ended it (see sse.service.ts). */
export type EndReason = 'client' | 'overflow' | 'token_expired' | 'shutdown' | 'error';

/** At shutdown, how long an ended stream may take to flush before its socket is destroyed. */
const SHUTDOWN_FLUSH_MS = 500;

export class SseStream implements LiveStream, Beating {
  private lastSent: ChangePosition = [0n, 0n];
  /** While a resume replays, live entries wait here (their frames already rendered). */
  private held: { position: ChangePosition; frame: EncodedFrame | null }[] | null = [];
  private corked = false;
  private closed = false;
  private readonly socket: Socket;
  /** False for an HTTP/1.0 client: its body is not chunked, it ends with the connection. */
  private readonly chunked: boolean;
  private readonly cleanups: (() => void)[] = [];
  private readonly uncork = () => {
    this.corked = false;
    this.socket.uncork();
    this.checkUnread();
  };

  constructor(
    readonly audience: Audience,
    private readonly res: ServerResponse,
    /** A client that lets this much pile up unread is disconnected; it resumes with Last-Event-ID. */
    private readonly maxBufferedBytes: number,
    /** The response's socket, still connected (sse.service.ts checks). */
    socket: Socket,
  ) {
    this.socket = socket;
    this.chunked = res.chunkedEncoding;
  }

  get ended(): boolean {
    return this.closed;
  }

  /** Bytes written and not yet taken by the client (kernel excluded). */
  private get unread(): number {
    return this.socket.writableLength;
  }

  /** Runs when the stream ends, whatever the reason. */
  onEnd(cleanup: () => void): void {
    this.cleanups.push(cleanup);
  }

  /** An SSE frame (or comment), now. */
  write(text: string): void {
    this.send(new EncodedFrame(text));
  }

  heartbeat(frame: EncodedFrame): void {
    this.send(frame);
  }

  private send(frame: EncodedFrame): void {
    if (this.closed) return;
    this.socket.write(frame.bytes(this.chunked));
    if (!this.corked) this.checkUnread();
  }

  private checkUnread(): void {
    // While replaying, pages wait for the client instead (readBy): a long resume is not a slow client.
    if (this.held === null && this.unread > this.maxBufferedBytes) void this.end('overflow');
  }

  /** Whether the client reads what is buffered for it down to the limit, within `timeoutMs`. */
  readBy(timeoutMs: number): Promise<boolean> {
    if (this.unread <= this.maxBufferedBytes) return Promise.resolve(true);
    const socket = this.socket;
    return new Promise((resolve) => {
      const done = (read: boolean) => {
        clearTimeout(timer);
        socket.off('drain', onDrain);
        socket.off('close', onClose);
        resolve(read);
      };
      const onDrain = () => done(true);
      const onClose = () => done(false);
      const timer = setTimeout(() => done(false), timeoutMs);
      socket.on('drain', onDrain);
      socket.on('close', onClose);
    });
  }

  /** Where the stream stands: a fresh start's id, or the Last-Event-ID it resumes after. */
  startAfter(id: string): void {
    this.lastSent = parseChangeId(id) ?? [0n, 0n];
  }

  /** One page of a replay: the visible entries after what was sent, then past the page's newest id. */
  replay(entries: ChangeEntry[]): void {
    for (const entry of entries) {
      const position = parseChangeId(entry.id);
      if (!position || !visibleTo(entry, this.audience) || !after(position, this.lastSent)) continue;
      this.lastSent = position;
      const frame = frameFor(entry, this.audience);
      if (frame !== null) this.write(frame);
    }
    const newest = entries.length > 0 ? parseChangeId(entries[entries.length - 1]!.id) : null;
    if (newest && after(newest, this.lastSent)) this.lastSent = newest;
  }

  /** The replay is over: what arrived meanwhile goes out (minus what the replay sent), then entries as they come. */
  goLive(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const { position, frame } of held) this.receive(position, frame);
  }

  receive(position: ChangePosition, frame: EncodedFrame | null): void {
    if (this.closed) return;
    if (this.held !== null) {
      this.held.push({ position, frame });
      return;
    }
    if (!after(position, this.lastSent)) return;
    this.lastSent = position;
    if (frame === null) return;
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      queueMicrotask(this.uncork);
    }
    this.send(frame);
  }

  end(reason: EndReason): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (reason === 'token_expired') this.write(': token expired: renew it and reconnect with Last-Event-ID\n\n');
    this.closed = true;
    for (const cleanup of this.cleanups) cleanup();
    return finish(this.res, reason);
  }
}

/** A frame's bytes, made once for every stream that sends it: as one chunk of a chunked body (what res.write would send), or plain. */
export class EncodedFrame {
  private plain: Buffer | undefined;
  private chunk: Buffer | undefined;

  constructor(private readonly text: string) {}

  bytes(chunked: boolean): Buffer {
    this.plain ??= Buffer.from(this.text);
    if (!chunked) return this.plain;
    return (this.chunk ??= Buffer.concat([Buffer.from(`${this.plain.length.toString(16)}\r\n`), this.plain, CRLF]));
  }
}
const CRLF = Buffer.from('\r\n');

function after(a: ChangePosition, b: ChangePosition): boolean {
  return a[0] !== b[0] ? a[0] > b[0] : a[1] > b[1];
}

/**
 * Ends the response for `reason`. A client that does not read gets its socket reset: a
 * graceful close would leave the unread bytes in the kernel until TCP gives up. At shutdown
 * the stream ends cleanly (EventSource reconnects) and the socket closes once flushed, or
 * is destroyed after SHUTDOWN_FLUSH_MS. Resolves when the socket is closed (shutdown) or at once.
 */
function finish(res: ServerResponse, reason: EndReason): Promise<void> {
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

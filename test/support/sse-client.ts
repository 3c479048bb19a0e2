/** A real SSE client on node:http: parses frames, records ids, can disconnect and resume. */
import http from 'node:http';

export interface SseEvent {
  id?: string;
  event: string;
  data: any;
}

export class SseClient {
  readonly events: SseEvent[] = [];
  comments = 0;
  status = 0;
  /** When the server ended the response (ms epoch), or null while it is open. */
  endedAt: number | null = null;
  /** The comment lines received (heartbeats, notices), without the leading colon. */
  readonly commentLines: string[] = [];
  /** The connection failed after the response started (e.g. the server reset it). */
  aborted = false;
  private req: http.ClientRequest | null = null;
  private waiters: Array<() => void> = [];

  static open(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const client = new SseClient();
    return new Promise((resolve, reject) => {
      client.req = http.get(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
        client.status = res.statusCode ?? 0;
        res.setEncoding('utf8');
        let buffer = '';
        res.on('data', (chunk: string) => {
          buffer += chunk;
          let index: number;
          while ((index = buffer.indexOf('\n\n')) >= 0) {
            client.parse(buffer.slice(0, index));
            buffer = buffer.slice(index + 2);
          }
        });
        res.on('end', () => {
          client.endedAt = Date.now();
          client.waiters.splice(0).forEach((w) => w());
        });
        const cut = () => {
          if (client.endedAt !== null) return;
          client.aborted = true;
          client.waiters.splice(0).forEach((w) => w());
        };
        res.on('error', cut);
        res.on('aborted', cut);
        resolve(client);
      });
      client.req.on('error', reject);
    });
  }

  private parse(frame: string) {
    let id: string | undefined;
    let event = 'message';
    const data: string[] = [];
    let isComment = true;
    for (const line of frame.split('\n')) {
      if (line.startsWith(':')) {
        this.commentLines.push(line.slice(1).trim());
        continue;
      }
      isComment = false;
      const [field, ...rest] = line.split(':');
      const value = rest.join(':').replace(/^ /, '');
      if (field === 'id') id = value;
      else if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    if (isComment) {
      this.comments++;
      return;
    }
    if (data.length === 0 && id === undefined) return;
    this.events.push({ id, event, data: data.length ? JSON.parse(data.join('\n')) : null });
    this.waiters.splice(0).forEach((w) => w());
  }

  get lastEventId(): string | undefined {
    return [...this.events].reverse().find((e) => e.id !== undefined)?.id;
  }

  of(type: string): SseEvent[] {
    return this.events.filter((e) => e.event === type);
  }

  async waitFor(predicate: (events: SseEvent[]) => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.events)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`SSE wait timed out; got ${JSON.stringify(this.events.map((e) => [e.id, e.event]))}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 100));
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /** Waits until the server ends the stream. */
  async waitForEnd(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.endedAt === null) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('SSE stream did not end in time');
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 100));
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  close() {
    this.req?.destroy();
  }
}

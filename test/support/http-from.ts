/**
 * HTTP from a chosen client address. The whole 127.0.0.0/8 block is loopback on Linux, so a
 * test binds its socket to, say, 127.31.4.9 and the service sees that peer address — another
 * client, as far as per-address limits and anonymous idempotency scopes can tell, without
 * trusting any header.
 */
import http from 'node:http';
import type { Res } from './http.js';

export interface FromRequest {
  method: string;
  path: string;
  /** The client's source address (a 127.x.y.z); default 127.0.0.1. */
  from?: string;
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

export function sendFrom(baseUrl: string, r: FromRequest): Promise<Res> {
  const url = new URL(r.path, baseUrl);
  const payload = r.body === undefined ? undefined : typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
  const headers: Record<string, string> = {
    ...(r.token ? { authorization: `Bearer ${r.token}` } : {}),
    ...(payload !== undefined ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) } : {}),
    ...r.headers,
  };
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, path: url.pathname + url.search, method: r.method, headers, localAddress: r.from ?? '127.0.0.1', agent: false },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d));
        res.on('end', () => {
          let body: unknown = text;
          try {
            body = text ? JSON.parse(text) : null;
          } catch {
            /* not JSON */
          }
          const h = new Headers();
          for (const [name, value] of Object.entries(res.headers)) if (value !== undefined) h.set(name, Array.isArray(value) ? value.join(', ') : value);
          resolve({ status: res.statusCode ?? 0, body, headers: h });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** A fresh loopback address per call, so each test case is a client of its own (also in a Redis shared by earlier runs). */
export function freshAddress(): string {
  const n = () => 1 + Math.floor(Math.random() * 254);
  return `127.${n()}.${n()}.${n()}`;
}

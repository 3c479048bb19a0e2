// A lean keep-alive JSON client on node:http (cheaper per request than fetch, so the
// client steals less of the 2 cores from the server under test).
import http from 'node:http';
import { performance } from 'node:perf_hooks';

export function httpClient(baseUrl, { maxSockets = 64, timeoutMs = 15000 } = {}) {
  const { hostname, port } = new URL(baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: 'lifo' });

  function call(method, path, { token, body, headers } = {}) {
    return new Promise((resolve) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const h = { accept: 'application/json', ...headers };
      if (token) h.authorization = `Bearer ${token}`;
      if (payload !== undefined) {
        h['content-type'] = 'application/json';
        h['content-length'] = Buffer.byteLength(payload);
      }
      const t0 = performance.now();
      let settled = false;
      const done = (r) => {
        if (settled) return;
        settled = true;
        resolve(r);
      };
      const req = http.request({ hostname, port, method, path, agent, headers: h }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const at = performance.now();
          const text = Buffer.concat(chunks).toString('utf8');
          let json = null;
          try {
            json = text ? JSON.parse(text) : null;
          } catch {
            /* not JSON */
          }
          done({ status: res.statusCode, json, text, ms: at - t0, at });
        });
        res.on('error', (error) => done({ status: 0, json: null, text: String(error), ms: performance.now() - t0, at: performance.now() }));
      });
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
      req.on('error', (error) => done({ status: 0, json: null, text: String(error?.message ?? error), ms: performance.now() - t0, at: performance.now() }));
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  return { call, close: () => agent.destroy() };
}

/** Runs `task(i)` for i in [0, n) with at most `concurrency` in flight. */
export async function pool(n, concurrency, task) {
  let next = 0;
  const results = new Array(n);
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= n) return;
      results[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  return results;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

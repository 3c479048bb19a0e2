// A tiny timestamping forward proxy in front of the push service (web-push-testing), started by
// the bench (lib/push.mjs startArrivalProxy): `node push-proxy.mjs <target base URL>`.
//
// Every request is stamped on arrival (its headers parsed) with the machine's monotonic clock
// (process.hrtime = CLOCK_MONOTONIC, the same in every process, so the bench can put it on its
// own performance.now() timeline without polling), then forwarded verbatim (method, path,
// headers, body) over keep-alive; the answer is piped back. Its own process, so a busy bench
// client's event loop never delays the stamps. Control routes (never forwarded):
//   GET /__bench/count           -> {"count": n}
//   GET /__bench/arrivals?from=i -> {"rows": [[arrivedMs, answeredMs, status, clientHash, topic], ...]}
// Prints `listening <port>` once ready; exits when stdin closes. 127.0.0.1 only.
import http from 'node:http';

const target = new URL(process.argv[2]);
const agent = new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 256 });
const rows = [];
const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

function control(req, res) {
  const url = new URL(req.url, 'http://proxy');
  let body;
  if (url.pathname === '/__bench/count') body = { count: rows.length };
  else if (url.pathname === '/__bench/arrivals') body = { rows: rows.slice(Number(url.searchParams.get('from') ?? 0)) };
  else {
    res.writeHead(404).end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}

const server = http.createServer((req, res) => {
  if (req.url.startsWith('/__bench/')) {
    req.resume();
    control(req, res);
    return;
  }
  const row = [nowMs(), null, 0, req.url.split('?')[0].split('/').pop(), req.headers.topic ?? null];
  rows.push(row);
  const upstream = http.request({ hostname: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, agent }, (answer) => {
    row[1] = nowMs();
    row[2] = answer.statusCode;
    res.writeHead(answer.statusCode, answer.headers);
    answer.pipe(res);
  });
  upstream.on('error', (error) => {
    row[1] = nowMs();
    row[2] = 502;
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
    res.end(`proxy: ${error.message}`);
  });
  req.pipe(upstream);
});
// Longer than clients' idle keep-alive (undici: 4 s): the proxy never closes a socket the
// service is about to reuse (the same reason as in test/support/web-push-testing.cjs).
server.keepAliveTimeout = 30_000;
server.on('error', (error) => {
  process.stderr.write(`push-proxy: ${error.stack ?? error}\n`);
  process.exit(1);
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`));

process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));

// The guest side of the bench's push latency probe (lib/push.mjs runProbe), in its own process
// so that acknowledgements are stamped when they arrive, not when a busy bench client (e.g. the
// 50-worker command mix) gets round to them. Reads {base, gapMs, convs: [{conversationId,
// guestToken}]} from stdin; sends one support request every gapMs (sequentially, no catch-up
// burst); prints {"acks": [...]} with `at` = the 201 received, on the machine's monotonic clock
// (process.hrtime, shared with the arrival proxy), in ms.
import { performance } from 'node:perf_hooks';
import { httpClient, sleep } from './lib/http.mjs';

let text = '';
process.stdin.setEncoding('utf8');
for await (const chunk of process.stdin) text += chunk;
const { base, gapMs, convs } = JSON.parse(text);
const offset = Number(process.hrtime.bigint()) / 1e6 - performance.now();
const { call, close } = httpClient(base, { maxSockets: 2 });
// One request first: connection set up and the code paths of this process warm.
await call('GET', '/health');
const acks = [];
let slot = performance.now();
for (const conv of convs) {
  const wait = slot - performance.now();
  if (wait > 0) await sleep(wait);
  slot = Math.max(slot + gapMs, performance.now());
  const r = await call('POST', `/v1/guest/conversations/${conv.conversationId}/support-requests`, { token: conv.guestToken });
  const ack = { conversationId: conv.conversationId, status: r.status, ms: r.ms, at: r.at + offset, ticketOpened: r.json?.ticketOpened === true };
  if (r.status !== 201 || !ack.ticketOpened) ack.body = r.text.slice(0, 200);
  acks.push(ack);
}
close();
console.log(JSON.stringify({ acks }));

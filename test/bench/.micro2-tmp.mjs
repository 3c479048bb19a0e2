import { performance } from 'node:perf_hooks';
const doc = { _id: 'a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d', _pos: 123456n, propertyId: 'hotel-1', guestName: 'Guest 12', startedAt: new Date().toISOString(), status: 'assigned', ownerId: 'agent-1', ticket: { id: 'x', status: 'assigned', ownerId: 'agent-1', ownerName: 'Agent 1', openedAt: 'a', assignedAt: 'b', closedAt: null }, lastSupportRequest: null, lastMessage: { id: 'm', author: 'guest', text: 'Can I book a massage at 5?', at: 'c' }, messageCount: 4, lastActivityAt: 'd', activitySeq: 1234 };
const N = 300000;
for (let r = 0; r < 2; r++) {
let t = performance.now(); let x = 0;
for (let i = 0; i < N; i++) { const { _id, _pos, ...body } = doc; x += JSON.stringify(body).length; }
console.log('rest+stringify', ((performance.now() - t) * 1000 / N).toFixed(2));
t = performance.now();
for (let i = 0; i < N; i++) { x += JSON.stringify(doc, function (k, v) { return this === doc && (k === '_id' || k === '_pos') ? undefined : v; }).length; }
console.log('replacer', ((performance.now() - t) * 1000 / N).toFixed(2));
t = performance.now();
for (let i = 0; i < N; i++) { x += JSON.stringify(doc.ticket).length; }
console.log('stringify small', ((performance.now() - t) * 1000 / N).toFixed(2));
}

// Minimal SSE client for the lag measurement: records when each change-feed position first
// arrives (client clock, performance.now()), the event types seen at it, and optionally checks
// that the position inside the payload matches the id.
import http from 'node:http';
import { performance } from 'node:perf_hooks';

export function openSse(baseUrl, path, token, { validate = false } = {}) {
  const { hostname, port } = new URL(baseUrl);
  const arrivals = new Map(); // position (string) -> { t, types: string[] }
  // conversation id -> event types seen for it (conversation.updated and alert.created carry it).
  const byConversation = new Map();
  const state = {
    arrivals,
    byConversation,
    frames: 0,
    heartbeats: 0,
    readyId: null,
    resets: 0,
    mismatches: [], // payload position != id position
    badFrames: [],
    closedAt: null,
    closeReason: null,
    status: null,
    validate,
  };
  let buffer = '';
  let resolveReady;
  let rejectReady;
  const ready = new Promise((res, rej) => {
    resolveReady = res;
    rejectReady = rej;
  });

  const handleFrame = (frame, t) => {
    let id = null;
    let event = 'message';
    let data = '';
    let comment = false;
    for (const line of frame.split('\n')) {
      if (line.startsWith(':')) {
        comment = true;
        continue;
      }
      const i = line.indexOf(':');
      const field = i < 0 ? line : line.slice(0, i);
      let value = i < 0 ? '' : line.slice(i + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'id') id = value;
      else if (field === 'event') event = value;
      else if (field === 'data') data = data ? `${data}\n${value}` : value;
    }
    if (id === null) {
      if (comment) state.heartbeats++;
      return;
    }
    if (event === 'ready') {
      state.readyId = id;
      resolveReady(id);
      return;
    }
    if (event === 'reset') {
      state.resets++;
      return;
    }
    state.frames++;
    const m = /^(\d+)-(\d+)$/.exec(id);
    if (!m) {
      if (state.badFrames.length < 10) state.badFrames.push({ id, event });
      return;
    }
    const pos = m[1];
    const seen = arrivals.get(pos);
    if (seen) seen.types.push(event);
    else arrivals.set(pos, { t, types: [event] });
    if ((state.validate || event === 'alert.created') && data) {
      try {
        const payload = JSON.parse(data);
        const conversationId = payload.conversation?.id ?? payload.alert?.conversationId;
        if (conversationId) {
          const types = byConversation.get(conversationId);
          if (types) types.push(event);
          else byConversation.set(conversationId, [event]);
        }
        const inner = payload.conversation?.position ?? payload.message?.position ?? payload.alert?.position;
        if (inner !== undefined && String(inner) !== pos && state.mismatches.length < 20) state.mismatches.push({ id, event, payloadPosition: inner });
      } catch (error) {
        if (state.badFrames.length < 10) state.badFrames.push({ id, event, error: String(error) });
      }
    }
  };

  const req = http.get(
    { hostname, port, path, agent: false, headers: { accept: 'text/event-stream', authorization: `Bearer ${token}` } },
    (res) => {
      state.status = res.statusCode;
      if (res.statusCode !== 200) {
        rejectReady(new Error(`SSE ${path} answered ${res.statusCode}`));
        res.resume();
        return;
      }
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        const t = performance.now();
        buffer += chunk;
        let idx;
        while ((idx = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, idx);
          buffer = buffer.slice(idx + 2);
          handleFrame(frame, t);
        }
      });
      res.on('close', () => {
        state.closedAt = performance.now();
        state.closeReason ??= 'server closed the stream';
      });
    },
  );
  req.on('error', (error) => {
    state.closeReason = String(error?.message ?? error);
    rejectReady(error);
  });

  return {
    state,
    ready,
    close() {
      state.closeReason ??= 'client closed';
      req.destroy();
    },
  };
}

// A hotel frontend's client for live-chat-tickets, on a page of its own origin (listed in CORS_ORIGINS).
// README.md ("Frontend") quotes this file; test/browser/frontend.spec.ts runs it in Chromium.

/** One API call with the employee's bearer token (from your identity provider). */
export async function callApi(apiBase, token, method, path, body) {
  const res = await fetch(new URL(path, apiBase), {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = await res.json();
  if (!res.ok) throw Object.assign(new Error(answer.message), { status: res.status, requestId: res.headers.get('X-Request-Id') });
  return answer;
}

const EVENT_TYPES = ['ready', 'reset', 'conversation.updated', 'message.created', 'alert.created'];

/**
 * Live events for the signed-in employee: `onEvent(type, data, id)` for each; on `reset`,
 * refetch what you show. `getToken()` returns a valid bearer token.
 *
 * EventSource cannot send headers, so each stream is opened with a short-lived stream token
 * (`POST /v1/stream-tokens`) in `?access_token=`. The server ends a stream when its token
 * expires, so a new stream opens at 80% of the token's life, resuming after the last event
 * received (`lastEventId`): nothing lost, nothing twice. When the server goes away (restart,
 * deploy) the browser reconnects by itself with `Last-Event-ID`; if it gives up (its token
 * expired meanwhile), a fresh stream token is fetched and the stream resumes all the same.
 * `onStatus('live', expiresInSeconds)` / `onStatus('reconnecting')` can drive a banner.
 */
export function openLiveEvents(apiBase, getToken, onEvent, onStatus = () => {}) {
  let source = null;
  let lastEventId = '';
  let timer;
  let closed = false;
  const later = (ms) => {
    clearTimeout(timer);
    if (!closed) timer = setTimeout(connect, ms);
  };

  async function connect() {
    let grant;
    try {
      grant = await callApi(apiBase, await getToken(), 'POST', '/v1/stream-tokens');
    } catch {
      onStatus('reconnecting');
      return later(2000); // the API is unreachable or refused: try again
    }
    if (closed) return;
    const url = new URL('/v1/stream', apiBase);
    url.searchParams.set('access_token', grant.token);
    if (lastEventId) url.searchParams.set('lastEventId', lastEventId);
    source?.close();
    const next = (source = new EventSource(url));
    for (const type of EVENT_TYPES) {
      next.addEventListener(type, (event) => {
        if (event.lastEventId) lastEventId = event.lastEventId;
        onEvent(type, JSON.parse(event.data), event.lastEventId);
      });
    }
    next.onopen = () => onStatus('live', grant.expiresInSeconds);
    next.onerror = () => {
      // CONNECTING: the browser retries by itself. CLOSED: it gave up (e.g. 401, token expired).
      if (next === source && next.readyState === EventSource.CLOSED) {
        onStatus('reconnecting');
        later(1000);
      }
    };
    later(grant.expiresInSeconds * 800);
  }

  connect();
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      source?.close();
    },
  };
}

// The page's one connection to GET /v1/events/stream (Server-Sent Events).
//
// Read with fetch rather than EventSource because EventSource cannot send an
// Authorization header, and the API key must never go into a URL. It behaves
// as EventSource does: reconnects with backoff, sends Last-Event-ID (the last
// global position seen) so nothing is missed or repeated, and also:
// - `event: dropped` (the server found us too slow) reconnects at once from
//   the position it names;
// - no byte for 45 s (heartbeats come every 15 s) counts as a dead connection;
// - positions at or below the last one seen are ignored (no repeats).
//
// Views subscribe with onEvent(fn); fn gets the message's JSON
// ({position, requestId, tenantId, seq, type, time, data, ...}).

import { authHeaders } from './api.js';

const PATH = '/v1/events/stream';
const SILENCE_MS = 45000;
const MAX_BACKOFF_MS = 15000;

const listeners = new Set();
const statusListeners = new Set();
let lastPosition = null;
let current = null; // {controller}
let status = 'connecting';
let backoffMs = 500;
let retryTimer = null;

export function onEvent(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** fn(status, detail) now and on every change: connecting | live | reconnecting. */
export function onStatus(fn) {
  statusListeners.add(fn);
  fn(status);
  return () => statusListeners.delete(fn);
}

/**
 * Keeps a view fresh: `load` (a refresher from dom.js) runs now and again
 * whenever the stream comes (back) live — what happened while it was down
 * is fetched, not replayed — and `handle(e)` sees every event. Returns the
 * view's cleanup.
 */
export function liveView(load, handle) {
  const offEvent = onEvent(handle);
  const offStatus = onStatus((s) => {
    if (s === 'live') load();
  });
  load.now();
  return () => {
    offEvent();
    offStatus();
    load.stop();
  };
}

/** Opens the connection (again, e.g. after the API key changed). */
export function restart() {
  clearTimeout(retryTimer);
  current?.controller.abort();
  connect();
}

function setStatus(s, detail) {
  status = s;
  for (const fn of statusListeners) fn(s, detail);
}

async function connect() {
  const me = { controller: new AbortController() };
  current = me;
  setStatus(lastPosition === null ? 'connecting' : 'reconnecting');
  const headers = { Accept: 'text/event-stream', ...authHeaders() };
  if (lastPosition !== null) headers['Last-Event-ID'] = String(lastPosition);
  let problem = null;
  try {
    const res = await fetch(PATH, { headers, signal: me.controller.signal, cache: 'no-store' });
    if (!res.ok || !res.body) throw new Error(`the stream answered HTTP ${res.status}`);
    if (!(res.headers.get('content-type') ?? '').startsWith('text/event-stream'))
      throw new Error('the stream did not answer text/event-stream');
    backoffMs = 500;
    setStatus('live');
    await read(res.body, me);
  } catch (e) {
    problem = e;
  }
  if (current !== me) return; // replaced by restart()
  const immediate = me.dropped === true;
  setStatus('reconnecting', problem ? problem.message : 'the stream ended');
  retryTimer = setTimeout(connect, immediate ? 0 : backoffMs);
  if (!immediate) backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
}

// Parses the event-stream format (lines ending in LF, CRLF or CR; blank line
// ends a message; ':' starts a comment) and dispatches each message.
async function read(body, me) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let watchdog = null;
  const arm = () => {
    clearTimeout(watchdog);
    watchdog = setTimeout(() => me.controller.abort(), SILENCE_MS);
  };
  arm();
  let buffer = '';
  let msg = { id: null, event: 'message', data: [] };
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      arm();
      buffer += value;
      let m;
      const lineEnd = /\r\n|\n|\r/g;
      let start = 0;
      while ((m = lineEnd.exec(buffer)) !== null) {
        // A CR at the very end may be the first half of CRLF: wait for more.
        if (m[0] === '\r' && m.index === buffer.length - 1) break;
        const line = buffer.slice(start, m.index);
        start = m.index + m[0].length;
        if (line === '') {
          if (msg.data.length) dispatch(msg, me);
          // An id alone (the server's starting position) moves the last
          // event id without an event, as in EventSource: a reconnect
          // before any event resumes from there.
          else if (msg.id !== null && Number.isFinite(Number(msg.id)) && msg.id !== '')
            lastPosition = Math.max(lastPosition ?? 0, Number(msg.id));
          msg = { id: null, event: 'message', data: [] };
          if (me.dropped) return;
          continue;
        }
        if (line.startsWith(':')) continue; // heartbeat
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let val = colon < 0 ? '' : line.slice(colon + 1);
        if (val.startsWith(' ')) val = val.slice(1);
        if (field === 'data') msg.data.push(val);
        else if (field === 'event') msg.event = val;
        else if (field === 'id') msg.id = val;
      }
      buffer = buffer.slice(start);
    }
  } finally {
    clearTimeout(watchdog);
    reader.cancel().catch(() => {});
  }
}

function dispatch(msg, me) {
  let payload;
  try {
    payload = JSON.parse(msg.data.join('\n'));
  } catch {
    console.warn('stream: a message that is not JSON', msg);
    return;
  }
  if (msg.event === 'dropped') {
    // The server gave up on us; resume from where it says we are.
    if (Number.isFinite(payload.lastEventId)) lastPosition = payload.lastEventId;
    me.dropped = true;
    return;
  }
  const position = Number(msg.id ?? payload.position);
  if (Number.isFinite(position)) {
    if (lastPosition !== null && position <= lastPosition) return;
    lastPosition = position;
  }
  if (!payload.type) payload.type = msg.event;
  for (const fn of [...listeners]) {
    try {
      fn(payload);
    } catch (e) {
      console.error('stream listener', e);
    }
  }
}

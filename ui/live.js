// The live stream: GET /ui/api/live read with fetch() (EventSource cannot send the token header), parsed as
// Server-Sent Events, and reopened 2 s after it ends or fails. A 401 stops it for good.
import { apiUrl, authHeaders, getToken } from './api.js';

export const RECONNECT_MS = 2000;
// Ticks come about once a second: this long without a byte means the connection is stuck.
const STALL_MS = 20000;

/** Incremental SSE parser: feed() it decoded text, it returns the complete `{event, data}` messages. */
export function createSseParser() {
  let buffer = '';
  let event = '';
  let data = [];
  return {
    feed(text) {
      buffer += text;
      const messages = [];
      for (;;) {
        const end = /\r\n|\n|\r/.exec(buffer);
        if (!end) break;
        // A lone \r at the end may be the first half of \r\n: wait for the next chunk.
        if (end[0] === '\r' && end.index === buffer.length - 1) break;
        const line = buffer.slice(0, end.index);
        buffer = buffer.slice(end.index + end[0].length);
        if (line === '') {
          if (data.length > 0) messages.push({ event: event || 'message', data: data.join('\n') });
          event = '';
          data = [];
        } else if (!line.startsWith(':')) {
          const colon = line.indexOf(':');
          const field = colon === -1 ? line : line.slice(0, colon);
          let value = colon === -1 ? '' : line.slice(colon + 1);
          if (value.startsWith(' ')) value = value.slice(1);
          if (field === 'event') event = value;
          else if (field === 'data') data.push(value);
        }
      }
      return messages;
    },
  };
}

function describe(err) {
  if (!err) return 'the stream ended';
  return err.message || String(err);
}

/**
 * Opens the stream and keeps it open. Callbacks: onStatus({state, detail}) with state 'connecting', 'live'
 * or 'reconnecting'; onSnapshot(data); onTick(data); onUnauthorized(). Returns a function that closes it.
 */
export function connectLive({ onStatus, onSnapshot, onTick, onUnauthorized }) {
  let stopped = false;
  let controller = null;
  let wake = null;

  function dispatch(message) {
    let data;
    try {
      data = JSON.parse(message.data);
    } catch {
      console.warn(`busbar: ignored a live '${message.event}' event that is not JSON`);
      return;
    }
    try {
      if (message.event === 'snapshot') onSnapshot(data);
      else if (message.event === 'tick') onTick(data);
    } catch (err) {
      // A fault in the page must not look like a network failure and reopen the stream every 2 s.
      console.error(`busbar: could not apply a live '${message.event}' event`, err);
    }
  }

  /** One connection; resolves true when the stream must not be reopened, throws when it should. */
  async function connectOnce() {
    controller = new AbortController();
    const abort = controller;
    let stall = null;
    const armStall = () => {
      clearTimeout(stall);
      stall = setTimeout(() => abort.abort(new Error('no data for 20 s')), STALL_MS);
    };
    try {
      if (!getToken()) {
        onUnauthorized();
        return true;
      }
      armStall();
      const res = await fetch(apiUrl('./api/live'), {
        headers: { ...authHeaders(), accept: 'text/event-stream' },
        cache: 'no-store',
        signal: abort.signal,
      });
      if (res.status === 401) {
        onUnauthorized();
        return true;
      }
      if (!res.ok) throw new Error(`the gateway answered HTTP ${res.status}`);
      const type = res.headers.get('content-type') ?? '';
      if (!type.includes('text/event-stream') || !res.body) {
        throw new Error(`the gateway answered ${type || 'no content type'}, not an event stream`);
      }
      onStatus({ state: 'live', detail: '' });
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      const parser = createSseParser();
      for (;;) {
        const { done, value } = await reader.read();
        if (stopped) return true;
        if (done) return false;
        armStall();
        for (const message of parser.feed(decoder.decode(value, { stream: true }))) {
          dispatch(message);
          if (stopped) return true;
        }
      }
    } finally {
      clearTimeout(stall);
    }
  }

  async function run() {
    onStatus({ state: 'connecting', detail: '' });
    while (!stopped) {
      let reason = null;
      try {
        if (await connectOnce()) return;
      } catch (err) {
        reason = abortReason(err);
      }
      if (stopped) return;
      onStatus({ state: 'reconnecting', detail: describe(reason) });
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, RECONNECT_MS);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = null;
    }
  }

  function abortReason(err) {
    const reason = controller?.signal.reason;
    if (err?.name === 'AbortError' && reason instanceof Error) return reason;
    if (err instanceof TypeError) return new Error('the gateway could not be reached');
    return err;
  }

  run().catch((err) => console.error('busbar: live stream loop failed', err));

  return function stop() {
    stopped = true;
    controller?.abort();
    wake?.();
  };
}

// Which upstream response headers reach the client: everything except hop-by-hop headers and
// the ones the gateway itself must own. An upstream's own `x-request-id` (OpenAI's native request
// id) passes; with observability.response_headers the gateway's id replaces it.

import type { IncomingHttpHeaders } from 'node:http';

const DROPPED = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'proxy-authenticate',
  'proxy-authorization',
  'set-cookie',
  'alt-svc',
  'server',
]);

/**
 * A prototype with no members: header maps made from it read `constructor` or `__proto__` as plain
 * names, and stay in V8's fast object mode (`Object.create(null)` starts a slow dictionary: 2–3×
 * the time to fill and copy a response's headers, measured).
 */
const NO_MEMBERS: object = Object.freeze(Object.create(null));

/** An empty header map whose names can be any header name. */
export function headerMap(): Record<string, string | string[]> {
  return Object.create(NO_MEMBERS) as Record<string, string | string[]>;
}

export function relayHeaders(upstream: IncomingHttpHeaders): Record<string, string | string[]> {
  const out = headerMap();
  for (const name in upstream) {
    const value = upstream[name];
    if (value !== undefined && !DROPPED.has(name)) out[name] = value;
  }
  return out;
}

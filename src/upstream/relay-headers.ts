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

export function relayHeaders(upstream: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const name in upstream) {
    const value = upstream[name];
    if (value !== undefined && !DROPPED.has(name)) out[name] = value;
  }
  return out;
}

// Which upstream response headers reach the client: everything except hop-by-hop headers and
// the ones the gateway itself must own.

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
  'x-request-id',
]);

export function relayHeaders(upstream: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const name in upstream) {
    const value = upstream[name];
    if (value !== undefined && !DROPPED.has(name)) out[name] = value;
  }
  return out;
}

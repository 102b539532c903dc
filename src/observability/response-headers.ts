// `observability.response_headers: true` (G-OBS-52): every inference response head carries the
// request id and a `Server-Timing` header splitting the time into the upstream's part (sent to
// response head, over every attempt) and the gateway's own. Off by default: both would fingerprint
// the proxy. Installed per response only when switched on, so the default path pays nothing.

import type { ServerResponse } from 'node:http';
import type { RequestContext } from '../lifecycle/context.ts';

/** `upstream;dur=…, gateway;dur=…` in milliseconds, as of now. */
export function serverTiming(ctx: RequestContext, now = performance.now()): string {
  let upstream = 0;
  for (const hop of ctx.hops) if (hop.respondedAt > 0) upstream += hop.respondedAt - hop.startedAt;
  const gateway = Math.max(0, now - ctx.startedAt - upstream);
  return `upstream;dur=${upstream.toFixed(3)}, gateway;dur=${gateway.toFixed(3)}`;
}

type Head = Record<string, string | string[] | number>;

/** Adds the two headers to whatever head this response writes, overriding an upstream's own. */
export function stampResponseHead(ctx: RequestContext): void {
  const res = ctx.res;
  const writeHead = res.writeHead;
  res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
    const ours: Head = { 'x-request-id': ctx.requestId, 'server-timing': serverTiming(ctx) };
    const last = args.length > 1 ? args[args.length - 1] : undefined;
    if (last !== null && typeof last === 'object' && !Array.isArray(last))
      args[args.length - 1] = { ...(last as Head), ...ours };
    else for (const [name, value] of Object.entries(ours)) this.setHeader(name, value);
    return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
  } as typeof res.writeHead;
}

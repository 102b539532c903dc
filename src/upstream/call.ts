// One upstream call for a lane: path, headers (credential or passthrough, SigV4 when the
// protocol signs) and timeouts. Shared by forwarding, translation and health probes.

import type { IncomingHttpHeaders } from 'node:http';
import type { Lane } from '../routing/lane.ts';
import { UpstreamExchange } from './exchange.ts';
import type { OriginPools } from './origins.ts';

/** A streamed response may take this long between chunks (Appendix A: 300 s for streams). */
const STREAM_TIMEOUT_MS = 300_000;

export interface UpstreamCall {
  readonly lane: Lane;
  readonly body: Uint8Array;
  readonly stream: boolean;
  /** Gemini: SSE framing upstream. */
  readonly sse: boolean;
  /** The caller's credential in passthrough mode; `false` when the configured key is used. */
  readonly passthroughCredential: string | undefined | false;
  /** Client headers to keep (same-protocol hops only), e.g. `anthropic-beta`. */
  readonly clientHeaders: IncomingHttpHeaders | undefined;
  /** Epoch ms by which the upstream must have answered (headers). */
  readonly deadline: number;
  /** Longest silence between body chunks; default 300 s. */
  readonly bodyTimeoutMs?: number;
}

/** Sends the request; the exchange's `head` settles when the upstream answers or fails. */
export function callUpstream(origins: OriginPools, call: UpstreamCall): UpstreamExchange {
  const exchange = new UpstreamExchange();
  const target = call.lane.upstream;
  const own = call.passthroughCredential === false;
  let headers = own
    ? target.headers(call.stream)
    : target.passthroughHeaders(call.passthroughCredential, call.stream);
  const forwarded = call.clientHeaders === undefined ? [] : target.edge.forwardedClientHeaders;
  for (const name of forwarded) {
    const value = call.clientHeaders?.[name];
    if (typeof value === 'string') headers = { ...headers, [name]: value };
  }
  const path = target.path(call.stream, call.sse);
  if (target.signer !== undefined && own) {
    target.signer.sign(path, { ...headers }, call.body).then(
      (signed) => send(origins, call, path, { ...headers, ...signed }, exchange),
      (err: unknown) =>
        exchange.onResponseError(undefined, err instanceof Error ? err : new Error(String(err))),
    );
  } else {
    send(origins, call, path, headers, exchange);
  }
  return exchange;
}

function send(
  origins: OriginPools,
  call: UpstreamCall,
  path: string,
  headers: Record<string, string>,
  exchange: UpstreamExchange,
): void {
  origins.get(call.lane.upstream.origin).dispatch(
    {
      path,
      method: 'POST',
      headers,
      body: call.body,
      headersTimeout: Math.max(1000, call.deadline - Date.now()),
      bodyTimeout: call.bodyTimeoutMs ?? STREAM_TIMEOUT_MS,
    },
    exchange,
  );
}

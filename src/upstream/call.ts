// One upstream call to an endpoint: path, headers (credential or passthrough, SigV4 when the
// protocol signs) and timeouts. Shared by forwarding, translation and health probes.

import type { IncomingHttpHeaders } from 'node:http';
import type { Operation } from '../protocols/routes.ts';
import type { UpstreamEndpoint } from './endpoint.ts';
import { UpstreamExchange } from './exchange.ts';
import type { OriginPools } from './origins.ts';

export interface UpstreamCall {
  readonly body: Uint8Array;
  /** What is asked of the model; its path follows (chat, embeddings, rerank). */
  readonly operation: Operation;
  readonly stream: boolean;
  /** A stream framing of the endpoint's protocol; undefined = its default. */
  readonly framing: string | undefined;
  /** The caller's credential in passthrough mode; `false` when the configured key is used. */
  readonly passthroughCredential: string | undefined | false;
  /** Client headers to keep (same-protocol hops only), e.g. `anthropic-beta`. */
  readonly clientHeaders: IncomingHttpHeaders | undefined;
  /**
   * Milliseconds a non-streamed exchange has, head and body (the request's remaining deadline);
   * a streamed one has the upstream timeout (limits: upstream_timeout_secs) in all.
   */
  readonly timeoutMs: number;
  /** Connect plus response head must arrive within this, else the exchange fails as timed out. */
  readonly attemptTimeoutMs?: number | undefined;
}

/** Sends the request; the exchange's `head` settles when the upstream answers or fails. */
export function callUpstream(
  origins: OriginPools,
  endpoint: UpstreamEndpoint,
  call: UpstreamCall,
): UpstreamExchange {
  const exchange = new UpstreamExchange();
  // A streamed exchange ends within the upstream timeout, body included (G-FO-5: a total, not an idle timer).
  const ceilingMs = origins.limits.timeoutMs;
  exchange.expireAfter(call.stream ? ceilingMs : Math.max(1000, call.timeoutMs));
  if (call.attemptTimeoutMs !== undefined) exchange.expireHeadAfter(call.attemptTimeoutMs);
  const own = call.passthroughCredential === false;
  let headers = own
    ? endpoint.headers(call.stream)
    : endpoint.passthroughHeaders(call.passthroughCredential, call.stream);
  const forwarded = call.clientHeaders === undefined ? [] : endpoint.edge.forwardedClientHeaders;
  for (const name of forwarded) {
    const value = call.clientHeaders?.[name];
    if (typeof value === 'string') headers = { ...headers, [name]: value };
  }
  const path =
    call.operation === 'chat'
      ? endpoint.path(call.stream, call.framing)
      : endpoint.operationPath(call.operation, call.framing);
  if (endpoint.signer !== undefined && own) {
    endpoint.signer.sign(path, { ...headers }, call.body).then(
      (signed) => send(origins, endpoint, call, path, { ...headers, ...signed }, exchange),
      (err: unknown) =>
        exchange.onResponseError(undefined, err instanceof Error ? err : new Error(String(err))),
    );
  } else {
    send(origins, endpoint, call, path, headers, exchange);
  }
  return exchange;
}

function send(
  origins: OriginPools,
  endpoint: UpstreamEndpoint,
  call: UpstreamCall,
  path: string,
  headers: Record<string, string>,
  exchange: UpstreamExchange,
): void {
  (endpoint.inProcess ?? origins.get(endpoint.origin)).dispatch(
    { path, method: 'POST', headers, body: call.body },
    exchange,
  );
}

// One upstream call for a lane: path, headers (credential or passthrough, SigV4 when the
// protocol signs), timeouts and cancellation. Shared by forwarding and translation.

import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import type { Lane } from '../routing/lane.ts';
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
  readonly signal: AbortSignal;
  /** Epoch ms by which the upstream must have answered (headers). */
  readonly deadline: number;
}

export async function callUpstream(
  origins: OriginPools,
  call: UpstreamCall,
): Promise<Dispatcher.ResponseData> {
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
    headers = { ...headers, ...(await target.signer.sign(path, { ...headers }, call.body)) };
  }
  return origins.get(target.origin).request({
    path,
    method: 'POST',
    headers,
    body: call.body,
    signal: call.signal,
    headersTimeout: Math.max(1000, call.deadline - Date.now()),
    bodyTimeout: STREAM_TIMEOUT_MS,
  });
}

/** How reading a capped body ended: whole, cut at the cap, or failed in transit. */
export type CappedEnd = 'complete' | 'oversize' | 'failed';

/** Reads at most `cap` bytes of a body, then drops the rest. */
export async function readCapped(
  body: Dispatcher.ResponseData['body'],
  cap: number,
): Promise<{ bytes: Buffer; end: CappedEnd }> {
  const chunks: Buffer[] = [];
  let size = 0;
  let end: CappedEnd = 'complete';
  try {
    for await (const chunk of body) {
      const b = chunk as Buffer;
      if (size + b.length > cap) {
        end = 'oversize';
        break;
      }
      size += b.length;
      chunks.push(b);
    }
  } catch {
    end = 'failed';
  }
  body.destroy();
  return { bytes: Buffer.concat(chunks, size), end };
}

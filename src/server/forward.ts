// Same-protocol forwarding (P-FWD-*): the client's bytes go upstream unchanged except the model
// name, and the upstream answer (JSON or stream) is relayed byte-for-byte with backpressure.

import { pipeline } from 'node:stream/promises';
import type { Dispatcher } from 'undici';
import { callUpstream, readCapped } from '../upstream/call.ts';
import type { OriginPools } from '../upstream/origins.ts';
import { relayHeaders } from '../upstream/relay-headers.ts';
import type { Dispatch } from './dispatch.ts';
import { insertString, type Span, spanString, spliceString } from './json-scan.ts';
import { errorInfo, sendError } from './respond.ts';

/** Upstream error bodies are relayed up to this size (G-SEC-20). */
export const MAX_ERROR_BODY = 256 * 1024;

export interface ForwardExtras {
  /** Where the client's body names the model, if it does. */
  readonly modelSpan: Span | undefined;
}

/** The client's bytes with the lane's model named where the upstream protocol expects it. */
function upstreamBody(d: Dispatch, modelSpan: Span | undefined): Buffer {
  const lane = d.lane;
  if (!lane.upstream.edge.bodyNamesModel) return d.body;
  if (modelSpan === undefined) return insertString(d.body, 'model', lane.name);
  return spanString(d.body, modelSpan) === lane.name ? d.body : spliceString(d.body, modelSpan, lane.name);
}

export async function forwardSameProtocol(
  d: Dispatch,
  x: ForwardExtras,
  origins: OriginPools,
): Promise<void> {
  const { req, res, lane } = d;
  const body = upstreamBody(d, x.modelSpan);
  let upstream: Dispatcher.ResponseData;
  try {
    upstream = await callUpstream(origins, { ...d, body, clientHeaders: req.headers });
  } catch {
    if (d.signal.aborted) return;
    lane.err++;
    sendError(
      res,
      lane.upstream.edge,
      errorInfo('api_error', 502, 'The upstream service could not be reached.'),
    );
    return;
  }

  const status = upstream.statusCode;
  if (status >= 200 && status < 300) {
    lane.ok++;
    const spent = lane.spendBudget();
    res.writeHead(status, relayHeaders(upstream.headers));
    try {
      await pipeline(upstream.body, res);
    } catch {
      // The body failed in transit (upstream cut or client gone): give the budget unit back.
      if (spent) lane.refundBudget();
      res.destroy();
    }
    return;
  }

  // Non-2xx: relayed verbatim on a same-protocol hop (P-FWD-3), capped.
  if (status < 500) lane.clientFault++;
  else lane.err++;
  const { bytes } = await readCapped(upstream.body, MAX_ERROR_BODY);
  const relayed = relayHeaders(upstream.headers);
  delete relayed['content-length'];
  res.writeHead(status, { ...relayed, 'content-length': bytes.length });
  res.end(bytes);
}

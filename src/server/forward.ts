// Same-protocol forwarding (P-FWD-*): the client's bytes go upstream unchanged except the model
// name, and the upstream answer (JSON or stream) is relayed byte-for-byte with backpressure.

import { pipeline } from 'node:stream/promises';
import type { Dispatcher } from 'undici';
import { callUpstream, readCapped } from '../upstream/call.ts';
import type { OriginPools } from '../upstream/origins.ts';
import { relayHeaders } from '../upstream/relay-headers.ts';
import type { Dispatch } from './dispatch.ts';
import { type Span, spliceString } from './json-scan.ts';
import { errorInfo, sendError } from './respond.ts';

/** Upstream error bodies are relayed up to this size (G-SEC-20). */
export const MAX_ERROR_BODY = 256 * 1024;

export interface ForwardExtras {
  /** Where the body names the model (body-model protocols), replaced by the lane's model. */
  readonly modelSpan: Span | undefined;
  readonly requestedName: string;
}

export async function forwardSameProtocol(
  d: Dispatch,
  x: ForwardExtras,
  origins: OriginPools,
): Promise<void> {
  const { req, res, lane } = d;
  const body =
    x.modelSpan !== undefined && x.requestedName !== lane.name
      ? spliceString(d.body, x.modelSpan, lane.name)
      : d.body;
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

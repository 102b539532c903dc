// Cross-protocol requests (P-XLT-1): ingress reader → IR → egress writer upstream, then the
// answer back through the egress reader → IR → ingress writer. Streams are translated frame by
// frame as they arrive; nothing is buffered beyond one frame.

import type { Dispatcher } from 'undici';
import type { ProtocolCodec } from '../protocols/codec.ts';
import { CODECS } from '../protocols/codecs.ts';
import type { ErrorKind, GatewayErrorInfo, JsonObject, JsonValue } from '../protocols/ir.ts';
import type { Protocol } from '../protocols/names.ts';
import { EDGES } from '../protocols/registry.ts';
import { callUpstream, readCapped } from '../upstream/call.ts';
import type { OriginPools } from '../upstream/origins.ts';
import type { Dispatch } from './dispatch.ts';
import { MAX_ERROR_BODY } from './forward.ts';
import { errorInfo, sendBody, sendError } from './respond.ts';
import { writeChunk } from './stream-out.ts';

/** Buffered cross-protocol successes are capped (G-SEC-20). */
const MAX_TRANSLATED_BODY = 32 * 1024 * 1024;
const DEFAULT_MAX_TOKENS = 4096;

/** P-XLT-9: an upstream status becomes the ingress protocol's error of this kind. */
export function kindForStatus(status: number): ErrorKind {
  switch (status) {
    case 401:
      return 'authentication_error';
    case 403:
      return 'permission_error';
    case 404:
      return 'not_found_error';
    case 413:
      return 'request_too_large';
    case 429:
      return 'rate_limit_error';
    case 503:
      return 'overloaded';
    case 504:
      return 'timeout';
    default:
      return status >= 500 ? 'api_error' : 'invalid_request_error';
  }
}

function parseJson(bytes: Buffer): JsonValue | undefined {
  try {
    return JSON.parse(bytes.toString()) as JsonValue;
  } catch {
    return undefined;
  }
}

export async function translateAndForward(
  d: Dispatch,
  ingress: Protocol,
  origins: OriginPools,
): Promise<void> {
  const { res, lane } = d;
  const inCodec = CODECS[ingress];
  const inEdge = EDGES[ingress];
  const outCodec: ProtocolCodec = CODECS[lane.upstream.protocol];

  let upstreamBody: Buffer;
  try {
    const request = inCodec.readRequest(JSON.parse(d.body.toString()) as JsonObject, {
      model: lane.name,
      stream: d.stream,
    });
    const written = outCodec.writeRequest(request, {
      model: lane.name,
      defaultMaxTokens: lane.model.defaultMaxTokens ?? DEFAULT_MAX_TOKENS,
    });
    upstreamBody = Buffer.from(JSON.stringify(written));
  } catch {
    return sendError(
      res,
      inEdge,
      errorInfo('invalid_request_error', 400, 'The request body is not a valid request for this API.'),
    );
  }

  let upstream: Dispatcher.ResponseData;
  try {
    upstream = await callUpstream(origins, { ...d, body: upstreamBody, sse: true, clientHeaders: undefined });
  } catch {
    if (d.signal.aborted) return;
    lane.err++;
    return sendError(res, inEdge, errorInfo('api_error', 502, 'The upstream service could not be reached.'));
  }

  const status = upstream.statusCode;
  if (status < 200 || status >= 300) {
    if (status < 500) lane.clientFault++;
    else lane.err++;
    const { bytes } = await readCapped(upstream.body, MAX_ERROR_BODY);
    const headers = upstream.headers as Record<string, string>;
    const facts = outCodec.readError(status, parseJson(bytes), headers);
    const err: GatewayErrorInfo = {
      kind: kindForStatus(status),
      status,
      message: facts.message ?? `The upstream service answered with status ${status}.`,
    };
    return sendError(res, inEdge, err);
  }

  lane.ok++;
  const spent = lane.spendBudget();
  if (!d.stream) {
    const { bytes, truncated } = await readCapped(upstream.body, MAX_TRANSLATED_BODY);
    const parsed = truncated ? undefined : parseJson(bytes);
    let out: string;
    try {
      if (parsed === undefined) throw new Error('unreadable upstream body');
      const response = outCodec.readResponse(parsed);
      // Some protocols (Cohere, Bedrock) do not echo the model: the lane's model is what answered.
      out = JSON.stringify(
        inCodec.writeResponse(response.model === '' ? { ...response, model: lane.name } : response),
      );
    } catch {
      if (spent && !truncated) lane.refundBudget();
      return sendError(
        res,
        inEdge,
        errorInfo('api_error', 502, 'The upstream service returned a response that could not be read.'),
      );
    }
    return sendBody(res, 200, 'application/json', out);
  }

  const reader = outCodec.newStreamReader();
  const writer = inCodec.newStreamWriter({ sse: d.sse });
  res.writeHead(200, { 'content-type': writer.contentType, 'cache-control': 'no-cache' });
  let failed = false;
  const emit = async (events: ReturnType<typeof reader.push>): Promise<void> => {
    for (const event of events) {
      if (event.type === 'error') failed = true;
      const named =
        event.type === 'message_start' && event.model === '' ? { ...event, model: lane.name } : event;
      await writeChunk(res, writer.write(named));
    }
  };
  try {
    for await (const chunk of upstream.body) {
      await emit(reader.push(chunk as Buffer));
      if (res.destroyed) break;
    }
    await emit(reader.end());
  } catch {
    // Upstream failed after the first byte: no failover now; end with the native stream error (P-STR-8).
    failed = true;
    await writeChunk(
      res,
      writer.write({
        type: 'error',
        error: errorInfo('api_error', 502, 'The upstream stream was interrupted.'),
      }),
    );
  }
  upstream.body.destroy();
  if (failed && spent) lane.refundBudget();
  res.end(writer.end());
}

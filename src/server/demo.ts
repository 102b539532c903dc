// Serves the built-in `demo` lane: the request is read by the ingress protocol's reader and the
// echo answer written by its writer, so the demo speaks every protocol natively.

import type { ProtocolCodec } from '../protocols/codec.ts';
import { CODECS } from '../protocols/codecs.ts';
import { demoResponse, demoStream } from '../protocols/demo.ts';
import type { JsonObject } from '../protocols/ir.ts';
import type { Protocol } from '../protocols/names.ts';
import { EDGES } from '../protocols/registry.ts';
import type { Dispatch } from './dispatch.ts';
import { errorInfo, sendBody, sendError } from './respond.ts';
import { writeEvents } from './stream-out.ts';

export async function answerDemo(d: Dispatch, protocol: Protocol): Promise<void> {
  const codec: ProtocolCodec = CODECS[protocol];
  let request: ReturnType<ProtocolCodec['readRequest']>;
  try {
    request = codec.readRequest(JSON.parse(d.body.toString()) as JsonObject, {
      model: d.lane.name,
      stream: d.stream,
    });
  } catch {
    return sendError(
      d.res,
      EDGES[protocol],
      errorInfo('invalid_request_error', 400, 'The request body is not a valid request for this API.'),
    );
  }
  d.lane.ok++;
  d.lane.spendBudget();
  if (!d.stream) {
    return sendBody(
      d.res,
      200,
      'application/json',
      JSON.stringify(codec.writeResponse(demoResponse(request, d.lane.name))),
    );
  }
  const writer = codec.newStreamWriter({ sse: d.sse });
  d.res.writeHead(200, { 'content-type': writer.contentType, 'cache-control': 'no-cache' });
  await writeEvents(d.res, writer, demoStream(request, d.lane.name));
  d.res.end(writer.end());
}

// Serves the built-in `demo` lane: the request is read by the ingress protocol's reader and the
// echo answer written by its writer, so the demo speaks every protocol natively.

import { demoResponse, demoStream } from '../protocols/demo.ts';
import type { Request } from '../protocols/ir.ts';
import type { Lane } from '../routing/lane.ts';
import type { InferenceContext } from './context.ts';
import { errorInfo, sendBody, sendError } from './respond.ts';
import { writeEvents } from './stream-out.ts';

export async function answerDemo(ctx: InferenceContext, lane: Lane): Promise<void> {
  let request: Request;
  try {
    request = ctx.ir();
  } catch {
    return sendError(
      ctx.res,
      ctx.edge,
      errorInfo('invalid_request_error', 400, 'The request body is not a valid request for this API.'),
    );
  }
  lane.ok++;
  lane.spendBudget();
  if (!ctx.stream) {
    return sendBody(
      ctx.res,
      200,
      'application/json',
      JSON.stringify(ctx.codec.writeResponse(demoResponse(request, lane.name))),
    );
  }
  const writer = ctx.codec.newStreamWriter({ sse: ctx.sse });
  ctx.res.writeHead(200, { 'content-type': writer.contentType, 'cache-control': 'no-cache' });
  await writeEvents(ctx.res, writer, demoStream(request, lane.name));
  ctx.res.end(writer.end());
}

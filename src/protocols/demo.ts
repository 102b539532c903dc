// The built-in `demo` model: a deterministic echo answered in-process, as an upstream speaking one
// protocol's own wire format. The gateway reaches it like any other upstream (relay or translation),
// so every ingress protocol gets it natively. It lets a first request work offline.

import { CODECS } from './codecs.ts';
import { mintId } from './ids.ts';
import type { JsonObject, Request, Response, StreamEvent, Usage } from './ir.ts';
import type { Protocol } from './names.ts';

const GREETING = "Hello from Busbar's demo model.";

function lastUserText(req: Request): string {
  for (let i = req.messages.length - 1; i >= 0; i--) {
    const message = req.messages[i]!;
    if (message.role !== 'user') continue;
    const text = message.content
      .map((b) => (b.type === 'text' ? b.text : ''))
      .join(' ')
      .trim();
    if (text !== '') return text;
  }
  return '';
}

/** Whitespace-separated words: a stable stand-in for a tokenizer. */
function wordCount(text: string): number {
  return text.split(/\s+/).filter((w) => w !== '').length;
}

export function demoAnswerText(req: Request): string {
  const said = lastUserText(req);
  return said === '' ? GREETING : `${GREETING} You said: ${said}`;
}

function demoUsage(req: Request, answer: string): Usage {
  const prompt = [
    ...req.system.map((b) => b.text),
    ...req.messages.flatMap((m) => m.content.map((b) => (b.type === 'text' ? b.text : ''))),
  ];
  const inputTokens = Math.max(1, wordCount(prompt.join(' ')));
  const outputTokens = wordCount(answer);
  return { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens };
}

export function demoResponse(req: Request, model: string): Response {
  const text = demoAnswerText(req);
  return {
    id: mintId('demo_'),
    model,
    content: [{ type: 'text', text }],
    stopReason: 'end_turn',
    usage: demoUsage(req, text),
    created: Math.floor(Date.now() / 1000),
  };
}

/** The same answer as a stream: one text block delivered a few words per delta. */
export function demoStream(req: Request, model: string): StreamEvent[] {
  const response = demoResponse(req, model);
  const text = demoAnswerText(req);
  const words = text.split(/(?<=\s)/);
  const events: StreamEvent[] = [
    {
      type: 'message_start',
      id: response.id,
      model,
      usage: { inputTokens: response.usage.inputTokens, outputTokens: 0 },
      created: response.created,
    },
    { type: 'block_start', index: 0, block: { type: 'text' } },
  ];
  for (let i = 0; i < words.length; i += 3)
    events.push({ type: 'text_delta', index: 0, text: words.slice(i, i + 3).join('') });
  events.push(
    { type: 'block_stop', index: 0 },
    { type: 'message_delta', stopReason: 'end_turn', usage: response.usage },
    { type: 'message_stop' },
  );
  return events;
}

/** One in-process upstream answer: status, headers and the body's chunks. */
export interface DemoAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly chunks: readonly (string | Uint8Array)[];
}

/** The demo model answering one upstream call written in `protocol`. */
export function answerDemoCall(
  protocol: Protocol,
  call: { readonly model: string; readonly stream: boolean; readonly body: Uint8Array },
): DemoAnswer {
  const codec = CODECS[protocol];
  let request: Request;
  try {
    const body = JSON.parse(Buffer.from(call.body).toString()) as JsonObject;
    request = codec.readRequest(body, { model: call.model, stream: call.stream });
  } catch {
    const wire = codec.writeError({
      kind: 'invalid_request_error',
      status: 400,
      message: 'The request body is not a valid request for this API.',
    });
    return { status: wire.status, headers: wire.headers, chunks: [wire.body] };
  }
  if (!call.stream) {
    const body = JSON.stringify(codec.writeResponse(demoResponse(request, call.model)));
    return { status: 200, headers: { 'content-type': 'application/json' }, chunks: [body] };
  }
  // Usage rides at the end only where the caller asked for it, as a real upstream does.
  const writer = codec.newStreamWriter(
    request.includeUsage === undefined ? {} : { includeUsage: request.includeUsage },
  );
  const chunks = demoStream(request, call.model).map((event) => writer.write(event));
  chunks.push(writer.end());
  return { status: 200, headers: { 'content-type': writer.contentType }, chunks };
}

// The bench's upstream: an OpenAI-shaped `POST /v1/chat/completions` and an Anthropic-shaped
// `POST /v1/messages`, each non-streaming (JSON with usage) or SSE, answered from pre-encoded
// buffers after a fixed delay, so the mock stays far cheaper than anything measured through it.
//
//   node bench/mock-upstream.ts [--delay-ms 0] [--slow-delay-ms 200] [--chunk-gap-ms 1]
//                               [--stream-tokens N]
//
// A request body containing `slow` (the bench's `slow` model) waits --slow-delay-ms instead of
// --delay-ms. A streamed answer sends its first event at once and the rest --chunk-gap-ms later, so
// a proxy that buffered the stream would show it in time-to-first-byte. With --stream-tokens N, a
// streamed answer is N tokens long and each event is written on its own (one HTTP chunk each, a
// loop turn apart), as an LLM's tokens arrive; the whole answers keep the short text. Prints `{"port":N}` on
// stdout once listening on 127.0.0.1 (port 0 = any free port, or --port).

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    'delay-ms': { type: 'string', default: '0' },
    'slow-delay-ms': { type: 'string', default: '200' },
    'chunk-gap-ms': { type: 'string', default: '1' },
    'stream-tokens': { type: 'string', default: '0' },
  },
});
const delayMs = Number(values['delay-ms']);
const slowDelayMs = Number(values['slow-delay-ms']);
const chunkGapMs = Number(values['chunk-gap-ms']);
const streamTokens = Number(values['stream-tokens']);

const SHORT_TEXT = ['Hello', ' from', ' the', ' bench', ' mock.'];
/** The streamed answer's tokens. */
const TEXT = streamTokens > 0 ? Array.from({ length: streamTokens }, (_, i) => ` tok${i}`) : SHORT_TEXT;
const sse = (data: unknown, event?: string): string =>
  `${event === undefined ? '' : `event: ${event}\n`}data: ${JSON.stringify(data)}\n\n`;

function openaiJson(): Buffer {
  return Buffer.from(
    JSON.stringify({
      id: 'chatcmpl-bench',
      object: 'chat.completion',
      created: 1_700_000_000,
      model: 'bench-model',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: SHORT_TEXT.join(''), refusal: null },
          logprobs: null,
          finish_reason: 'stop',
        },
      ],
      usage: { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 },
    }),
  );
}

function openaiEvents(): string[] {
  const chunk = (delta: object, finish: string | null, usage?: object): string =>
    sse({
      id: 'chatcmpl-bench',
      object: 'chat.completion.chunk',
      created: 1_700_000_000,
      model: 'bench-model',
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      ...(usage === undefined ? {} : { usage }),
    });
  return [
    chunk({ role: 'assistant', content: '' }, null),
    ...TEXT.map((t) => chunk({ content: t }, null)),
    chunk({}, 'stop', { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 }),
    'data: [DONE]\n\n',
  ];
}

function anthropicJson(): Buffer {
  return Buffer.from(
    JSON.stringify({
      id: 'msg_bench',
      type: 'message',
      role: 'assistant',
      model: 'claude-bench',
      content: [{ type: 'text', text: SHORT_TEXT.join('') }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 11, output_tokens: 7 },
    }),
  );
}

function anthropicEvents(): string[] {
  const ev = (type: string, fields: object): string => sse({ type, ...fields }, type);
  return [
    ev('message_start', {
      message: {
        id: 'msg_bench',
        type: 'message',
        role: 'assistant',
        model: 'claude-bench',
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 11, output_tokens: 1 },
      },
    }),
    ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
    ev('ping', {}),
    ...TEXT.map((text) => ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text } })),
    ev('content_block_stop', { index: 0 }),
    ev('message_delta', {
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { output_tokens: 7 },
    }),
    ev('message_stop', {}),
  ];
}

interface Canned {
  readonly json: Buffer;
  readonly jsonHeaders: Record<string, string | number>;
  readonly first: Buffer;
  readonly rest: Buffer;
  readonly events: readonly Buffer[];
}

function canned(json: Buffer, events: string[]): Canned {
  return {
    json,
    jsonHeaders: { 'content-type': 'application/json', 'content-length': json.length },
    first: Buffer.from(events[0]!),
    rest: Buffer.from(events.slice(1).join('')),
    events: events.map((e) => Buffer.from(e)),
  };
}

const OPENAI = canned(openaiJson(), openaiEvents());
const ANTHROPIC = canned(anthropicJson(), anthropicEvents());
const SSE_HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' };
const STREAM_TRUE = Buffer.from('"stream":true');
const SLOW = Buffer.from('slow');

function answer(res: ServerResponse, c: Canned, stream: boolean): void {
  if (!stream) {
    res.writeHead(200, c.jsonHeaders);
    res.end(c.json);
    return;
  }
  res.writeHead(200, SSE_HEADERS);
  if (streamTokens > 0) {
    writeEach(res, c.events, 0);
    return;
  }
  res.write(c.first);
  if (chunkGapMs > 0) setTimeout(() => res.end(c.rest), chunkGapMs);
  else res.end(c.rest);
}

/** One event per write, a loop turn apart: each its own HTTP chunk. */
function writeEach(res: ServerResponse, events: readonly Buffer[], at: number): void {
  if (res.destroyed) return; // the client left: nothing more to write
  if (at === events.length - 1) {
    res.end(events[at]);
    return;
  }
  res.write(events[at]);
  setImmediate(writeEach, res, events, at + 1);
}

function onRequest(req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? '/';
  const c = url.startsWith('/v1/chat/completions')
    ? OPENAI
    : url.startsWith('/v1/messages')
      ? ANTHROPIC
      : undefined;
  if (c === undefined) {
    req.resume();
    res.writeHead(url === '/healthz' ? 200 : 404, { 'content-length': 2 });
    res.end(url === '/healthz' ? 'ok' : 'no');
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    const stream = body.includes(STREAM_TRUE);
    const delay = body.includes(SLOW) ? slowDelayMs : delayMs;
    if (delay > 0) setTimeout(() => answer(res, c, stream), delay);
    else answer(res, c, stream);
  });
}

const server = createServer(onRequest);
server.keepAliveTimeout = 120_000;
server.listen(Number(values.port), '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' ? address?.port : 0 })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));

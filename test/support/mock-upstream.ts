// A mock upstream speaking all six providers' real wire formats, recording every request, with fault injection.
//
// One server per test on 127.0.0.1:0 (plain http). HTTP/1.1 and cleartext HTTP/2 (prior knowledge) share the
// port, because the official Bedrock SDK talks HTTP/2 by default.

import type { IncomingMessage, ServerResponse } from 'node:http';
import http from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import http2 from 'node:http2';
import net from 'node:net';
import { replaying } from '../../src/server/listener.ts';
import { anthropicWire } from './mock-wire/anthropic.ts';
import { bedrockWire } from './mock-wire/bedrock.ts';
import { cohereWire } from './mock-wire/cohere.ts';
import { cohereRerank, type EmbeddingWire, embeddingReply } from './mock-wire/embeddings.ts';
import { geminiWire } from './mock-wire/gemini.ts';
import { openaiError, openaiWire } from './mock-wire/openai.ts';
import { responsesWire } from './mock-wire/responses.ts';
import {
  type MockAnswer,
  type MockToolCall,
  type MockUsage,
  mockThinking,
  type Protocol,
  type ProtocolWire,
  type StreamContext,
  type WireReply,
} from './mock-wire/shared.ts';

export { bedrockEventFrame, bedrockExceptionFrame, decodeBedrockStream } from './mock-wire/bedrock.ts';
export type { MockToolCall, MockUsage, Protocol, WireReply };

/** How the mock answers by default; every field can be changed later with `configure`. */
export interface MockUpstreamOptions {
  /** Answer text; default `Hello from <protocol> mock`. */
  text?: string | ((protocol: Protocol) => string);
  /** Token counts reported; default input 11, output 7. */
  usage?: Partial<MockUsage>;
  /** When set and the request declares tools, the answer is this tool call instead of text. */
  toolCall?: MockToolCall | undefined;
  /** Model name reported in replies; default the model the request named. */
  model?: string;
}

/** A one-shot override for the next request, consumed FIFO before the default behaviour. */
export interface MockFault {
  /** Status to answer with. Without `body`, a status ≥ 400 gets the provider's native error envelope. */
  status?: number;
  /** Extra or replacement response headers. */
  headers?: Record<string, string>;
  /** Literal body (objects are JSON-encoded). Replaces the default reply. */
  body?: string | Uint8Array | Record<string, unknown> | unknown[];
  /** Message for the generated native error body. */
  message?: string;
  /** Wait this long before sending the status line. */
  delayMs?: number;
  /** Destroy the connection (TCP reset) instead of answering (after `delayMs`). */
  resetConnection?: boolean;
  /** Send headers and this many body chunks of the reply, then destroy the connection. */
  cutStreamAfterChunks?: number;
  /** Pause between body chunks. */
  chunkDelayMs?: number;
  /** Per-request answer overrides. */
  text?: string;
  usage?: Partial<MockUsage>;
  toolCall?: MockToolCall | undefined;
  /** Answer as if the output-token limit cut the text short (each protocol's max-tokens stop reason). */
  truncated?: boolean;
}

export interface RecordedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: URLSearchParams;
  /** Lowercased names; repeated headers joined with `, `. HTTP/2 pseudo-headers are dropped (`host` kept). */
  headers: Record<string, string>;
  body: Buffer;
  /** The protocol the path belongs to, or undefined for an unknown route. */
  protocol: Protocol | undefined;
  /** The model the request named (body `model`, or the path's model for Gemini/Bedrock). */
  model: string | undefined;
  stream: boolean;
  httpVersion: string;
  /** What the mock answered (set once written; the body holds only the chunks actually sent). */
  response: { status: number; headers: Record<string, string>; body: Buffer } | undefined;
  /** The client closed the exchange before the mock finished its answer. */
  cancelled: boolean;
  /** The body parsed as JSON (throws when it is not JSON). */
  json(): unknown;
}

export interface MockUpstream {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  readonly requests: RecordedRequest[];
  last(): RecordedRequest | undefined;
  enqueue(...faults: MockFault[]): void;
  /** Merges new defaults over the current ones. */
  configure(options: MockUpstreamOptions): void;
  /** Forgets recorded requests and pending faults. */
  reset(): void;
  close(): Promise<void>;
}

const WIRES: Record<Protocol, ProtocolWire> = {
  openai: openaiWire,
  responses: responsesWire,
  anthropic: anthropicWire,
  gemini: geminiWire,
  cohere: cohereWire,
  bedrock: bedrockWire,
};

interface Route {
  protocol: Protocol;
  /** Model from the path (path-model protocols). */
  pathModel: string | undefined;
  /** Stream selected by the route (Gemini action, Bedrock converse-stream); undefined = body decides. */
  routeStream: boolean | undefined;
  /** An embedding or rerank endpoint instead of chat (`single`: Gemini's embedContent). */
  operation?: { kind: 'embedding'; wire: EmbeddingWire; single: boolean } | { kind: 'rerank' };
}

/** The embedding and rerank paths of the four protocols that have them. */
function matchOperation(path: string): Route | undefined {
  const none = { pathModel: undefined, routeStream: false };
  if (path.endsWith('/v1/embeddings'))
    return { protocol: 'openai', ...none, operation: { kind: 'embedding', wire: 'openai', single: false } };
  if (path.endsWith('/v2/embed'))
    return { protocol: 'cohere', ...none, operation: { kind: 'embedding', wire: 'cohere', single: false } };
  if (path.endsWith('/v2/rerank')) return { protocol: 'cohere', ...none, operation: { kind: 'rerank' } };
  const gemini = /\/models\/([^/]+):(embedContent|batchEmbedContents)$/.exec(path);
  if (gemini) {
    const single = gemini[2] === 'embedContent';
    return {
      protocol: 'gemini',
      pathModel: decodeURIComponent(gemini[1]!),
      routeStream: false,
      operation: { kind: 'embedding', wire: 'gemini', single },
    };
  }
  const bedrock = /\/model\/([^/]+)\/invoke$/.exec(path);
  if (bedrock) {
    return {
      protocol: 'bedrock',
      pathModel: decodeURIComponent(bedrock[1]!),
      routeStream: false,
      operation: { kind: 'embedding', wire: 'bedrock', single: false },
    };
  }
  return undefined;
}

/** Matches the egress paths (protocols.md §1), tolerating a base_url path prefix. */
function matchRoute(path: string): Route | undefined {
  const operation = matchOperation(path);
  if (operation !== undefined) return operation;
  if (path.endsWith('/v1/chat/completions'))
    return { protocol: 'openai', pathModel: undefined, routeStream: undefined };
  if (path.endsWith('/v1/responses'))
    return { protocol: 'responses', pathModel: undefined, routeStream: undefined };
  if (path.endsWith('/v1/messages'))
    return { protocol: 'anthropic', pathModel: undefined, routeStream: undefined };
  if (path.endsWith('/v2/chat')) return { protocol: 'cohere', pathModel: undefined, routeStream: undefined };
  const gemini = /\/models\/([^/]+):(generateContent|streamGenerateContent)$/.exec(path);
  if (gemini) {
    return {
      protocol: 'gemini',
      pathModel: decodeURIComponent(gemini[1]!),
      routeStream: gemini[2] === 'streamGenerateContent',
    };
  }
  const bedrock = /\/model\/([^/]+)\/(converse|converse-stream)$/.exec(path);
  if (bedrock) {
    return {
      protocol: 'bedrock',
      pathModel: decodeURIComponent(bedrock[1]!),
      routeStream: bedrock[2] === 'converse-stream',
    };
  }
  return undefined;
}

/** The minimal response surface shared by HTTP/1.1 and HTTP/2 compat responses. */
interface Sink {
  writeHead(status: number, headers: Record<string, string>): void;
  write(chunk: string | Uint8Array): Promise<void>;
  end(): void;
  /** `hard`: TCP reset (unread data is lost); otherwise a plain close mid-body. */
  reset(hard: boolean): void;
}

function sinkFor(req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse): Sink {
  const w = res as ServerResponse;
  return {
    writeHead(status, headers) {
      w.writeHead(status, headers);
      w.flushHeaders();
    },
    write(chunk) {
      return new Promise((resolve) => {
        // The callback fires once the chunk is handed to the socket, so a cut after N chunks is exact.
        w.write(chunk, () => resolve());
      });
    },
    end() {
      w.end();
    },
    reset(hard) {
      if ('stream' in req && req.stream) {
        if (hard) req.stream.session?.destroy();
        else req.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
        return;
      }
      const socket = (req as IncomingMessage).socket;
      if (hard) socket.resetAndDestroy();
      else socket.destroy();
    },
  };
}

function headerRecord(raw: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    const key = name.toLowerCase();
    if (key === ':authority') {
      out.host ??= String(value);
      continue;
    }
    if (key.startsWith(':')) continue;
    out[key] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function toBytes(body: NonNullable<MockFault['body']>): string | Uint8Array {
  if (typeof body === 'string' || body instanceof Uint8Array) return body;
  return JSON.stringify(body);
}

export async function startMockUpstream(options: MockUpstreamOptions = {}): Promise<MockUpstream> {
  let defaults: MockUpstreamOptions = { ...options };
  const requests: RecordedRequest[] = [];
  const queue: MockFault[] = [];
  let seq = 0;

  const handle = async (
    req: IncomingMessage | Http2ServerRequest,
    res: ServerResponse | Http2ServerResponse,
  ): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://mock.invalid');
    const route = matchRoute(url.pathname);
    let parsed: Record<string, unknown> | undefined;
    try {
      const value: unknown = JSON.parse(body.toString('utf8'));
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
        parsed = value as Record<string, unknown>;
      }
    } catch {
      parsed = undefined;
    }
    const bodyModel = typeof parsed?.model === 'string' ? parsed.model : undefined;
    const stream = route?.routeStream ?? parsed?.stream === true;
    const recorded: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: headerRecord(req.headers),
      body,
      protocol: route?.protocol,
      model: route?.pathModel ?? bodyModel,
      stream,
      httpVersion: req.httpVersion,
      response: undefined,
      cancelled: false,
      json: () => JSON.parse(body.toString('utf8')),
    };
    res.once('close', () => {
      if (!res.writableFinished) recorded.cancelled = true;
    });
    requests.push(recorded);
    seq += 1;

    const fault = queue.shift();
    const sink = sinkFor(req, res);
    if (fault?.delayMs) await sleep(fault.delayMs);
    if (fault?.resetConnection) {
      sink.reset(true);
      return;
    }
    const reply = buildReply(route, parsed, stream, url, fault, recorded.model);
    await send(sink, reply, fault, recorded);
  };

  const buildReply = (
    route: Route | undefined,
    parsed: Record<string, unknown> | undefined,
    stream: boolean,
    url: URL,
    fault: MockFault | undefined,
    model: string | undefined,
  ): WireReply => {
    const wire = route ? WIRES[route.protocol] : undefined;
    if (fault?.body !== undefined) {
      return {
        status: fault.status ?? 200,
        headers: { 'content-type': 'application/json', ...fault.headers },
        chunks: [toBytes(fault.body)],
      };
    }
    if (fault?.status !== undefined && fault.status >= 400) {
      const message = fault.message ?? `mock upstream error ${fault.status}`;
      const reply = wire ? wire.error(fault.status, message) : openaiError(fault.status, message);
      return { ...reply, headers: { ...reply.headers, ...fault.headers } };
    }
    if (!wire || !route) return openaiError(404, `Unknown request URL: POST ${url.pathname}.`);
    if (parsed === undefined) return wire.error(400, 'mock upstream: request body is not a JSON object');
    const op = route.operation;
    if (op !== undefined) {
      const reply =
        op.kind === 'rerank'
          ? cohereRerank(parsed)
          : embeddingReply(op.wire, parsed, route.pathModel ?? '', op.single);
      return {
        ...reply,
        status: fault?.status ?? reply.status,
        headers: { ...reply.headers, ...fault?.headers },
      };
    }
    // A provider that verifies signed thinking refuses a tool loop continued without it.
    const refusal = wire.refusal?.(parsed);
    if (refusal !== undefined) return wire.error(400, refusal);
    const protocol = route.protocol;
    const textOption = fault?.text ?? defaults.text;
    const toolCall = fault && 'toolCall' in fault ? fault.toolCall : defaults.toolCall;
    const calls = toolCall && wire.declaresTools(parsed) ? toolCall : undefined;
    const answer: MockAnswer = {
      text:
        typeof textOption === 'function'
          ? textOption(protocol)
          : (textOption ?? `Hello from ${protocol} mock`),
      usage: {
        input: fault?.usage?.input ?? defaults.usage?.input ?? 11,
        output: fault?.usage?.output ?? defaults.usage?.output ?? 7,
      },
      toolCall: calls,
      truncated: fault?.truncated ?? false,
      model: defaults.model ?? model ?? 'mock-model',
      seq,
      thinking: calls !== undefined && wire.thinkingOn?.(parsed) ? mockThinking(seq, calls.name) : undefined,
    };
    const ctx: StreamContext = { body: parsed, sse: url.searchParams.get('alt') === 'sse' };
    const reply = stream ? wire.stream(answer, ctx) : wire.nonStream(answer, ctx);
    return {
      status: fault?.status ?? reply.status,
      headers: { ...reply.headers, ...fault?.headers },
      chunks: reply.chunks,
    };
  };

  const send = async (
    sink: Sink,
    reply: WireReply,
    fault: MockFault | undefined,
    recorded: RecordedRequest,
  ): Promise<void> => {
    const headers = { ...reply.headers };
    if (reply.chunks.length === 1 && fault?.cutStreamAfterChunks === undefined) {
      headers['content-length'] = String(Buffer.byteLength(reply.chunks[0]!));
    }
    sink.writeHead(reply.status, headers);
    const limit = fault?.cutStreamAfterChunks;
    const chunks = limit === undefined ? reply.chunks : reply.chunks.slice(0, limit);
    // Recorded before writing, so a test that has read the whole reply always finds it.
    recorded.response = {
      status: reply.status,
      headers,
      body: Buffer.concat(chunks.map((c) => Buffer.from(c))),
    };
    for (const [i, chunk] of chunks.entries()) {
      if (i > 0 && fault?.chunkDelayMs) await sleep(fault.chunkDelayMs);
      await sink.write(chunk);
    }
    if (limit !== undefined) {
      // Let the written bytes leave before the close so the client sees a stream cut mid-way.
      await sleep(20);
      sink.reset(false);
      return;
    }
    sink.end();
  };

  const onRequest = (
    req: IncomingMessage | Http2ServerRequest,
    res: ServerResponse | Http2ServerResponse,
  ): void => {
    handle(req, res).catch(() => {
      // A client that went away mid-reply is normal in fault tests.
      res.destroy?.();
    });
  };

  const h1 = http.createServer({ keepAliveTimeout: 5000 }, onRequest);
  const h2 = http2.createServer({}, onRequest);
  const sockets = new Set<net.Socket>();
  // noDelay: without it a reused connection waits out the client's delayed ACK (~40 ms) on each answer.
  const tcp = net.createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let head = Buffer.alloc(0);
    const onData = (data: Buffer): void => {
      head = Buffer.concat([head, data]);
      if (head.length < 3) return;
      socket.off('data', onData);
      socket.pause();
      // Cleartext HTTP/2 with prior knowledge starts with the `PRI * HTTP/2.0` preface.
      if (head.subarray(0, 3).toString('latin1') === 'PRI') {
        // The HTTP/2 session reads the socket handle directly and would miss unshifted bytes: replay them
        // through a JS duplex instead.
        h2.emit('connection', replaying(socket, head));
        return;
      }
      socket.unshift(head);
      h1.emit('connection', socket);
      socket.resume();
    };
    socket.on('data', onData);
  });
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (tcp.address() as net.AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    last: () => requests[requests.length - 1],
    enqueue: (...faults) => {
      queue.push(...faults);
    },
    configure: (next) => {
      defaults = { ...defaults, ...next };
    },
    reset: () => {
      requests.length = 0;
      queue.length = 0;
    },
    close: async () => {
      const closed = new Promise<void>((resolve) => tcp.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      h1.closeAllConnections();
      h2.close();
      await closed;
    },
  };
}

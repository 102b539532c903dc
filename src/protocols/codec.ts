// The interface every protocol folder implements: a reader (wire → IR) and a writer (IR → wire)
// for requests, responses, stream events and errors. The core only talks to these.

import type {
  GatewayErrorInfo,
  JsonObject,
  JsonValue,
  Request,
  Response,
  StopReason,
  StreamEvent,
  Usage,
} from './ir.ts';
import type { Protocol } from './names.ts';

/** A fully rendered error answer in one protocol's native envelope. */
export interface WireError {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** What a protocol can tell from an upstream error answer (for classification, P-XLT-9). */
export interface UpstreamErrorFacts {
  readonly message: string | undefined;
  /** Provider error code (`insufficient_quota`, `"1113"`, `context_length_exceeded`, …). */
  readonly code: string | undefined;
  /** Structured type (`rate_limit_error`, `RESOURCE_EXHAUSTED`, `ThrottlingException`, …). */
  readonly type: string | undefined;
}

export interface StreamWriterOptions {
  /** A stream framing the protocol declares (its edge's `streamFramings`); undefined = its default. */
  readonly framing?: string;
  /**
   * OpenAI Chat only: end with the usage chunk (empty `choices`) that `stream_options.include_usage`
   * asks for. Default true; pass false when the client did not ask, for clients that index choices[0].
   */
  readonly includeUsage?: boolean;
}

/** Renders IR stream events as wire bytes, keeping whatever per-stream state the protocol needs. */
export interface StreamWriter {
  readonly contentType: string;
  /** Wire bytes for one event ('' when the event has no wire form in this protocol). */
  write(event: StreamEvent): string | Uint8Array;
  /** Bytes that close the stream (`data: [DONE]`, a closing `]`, …) after message_stop or an error event. */
  end(): string | Uint8Array;
}

/** Turns upstream stream bytes into IR events. Frames split across chunks are reassembled. */
export interface StreamReader {
  /** Never throws: a malformed frame yields an `error` event. */
  push(chunk: Uint8Array): readonly StreamEvent[];
  /** The upstream ended; an incomplete stream yields an `error` event. */
  end(): StreamEvent[];
}

/** What a whole answer says about itself besides its content: its model ('' when unnamed) and stop reason. */
export interface ResponseFacts {
  readonly model: string;
  readonly stopReason: StopReason;
}

export interface ProtocolCodec {
  readonly protocol: Protocol;
  /** Whether requests in this protocol carry stop sequences; where not, the gateway enforces them. */
  readonly carriesStop: boolean;

  // requests
  readRequest(body: JsonObject, ctx: { model: string; stream: boolean }): Request;
  /** The upstream body for `model`; `defaultMaxTokens` is injected only where the protocol requires it. */
  writeRequest(req: Request, ctx: { model: string; defaultMaxTokens: number }): JsonObject;
  /** A minimal one-token request used by health probes (P-PRB-1). */
  probeBody(model: string): JsonObject;

  // responses
  readResponse(body: JsonValue): Response;
  writeResponse(res: Response): JsonObject;
  /**
   * `tally`: the reader feeds only the usage tap (the stream itself is relayed as it is), which
   * needs the start, the stop reason, usage and errors — a reader may skip the content frames.
   * `facts: false` (a tally for usage alone, no trace): the start's model is not needed either.
   */
  newStreamReader(opts?: { readonly tally?: boolean; readonly facts?: boolean }): StreamReader;
  newStreamWriter(opts?: StreamWriterOptions): StreamWriter;

  // usage (P-USE)
  usageFromResponse(body: JsonValue): Usage | undefined;
  /** A whole answer's model ('' when the protocol names none) and stop reason, without reading its content. */
  answerFacts(body: JsonValue): ResponseFacts;

  // errors
  readError(
    status: number,
    body: JsonValue | undefined,
    headers: Readonly<Record<string, string>>,
  ): UpstreamErrorFacts;
  writeError(err: GatewayErrorInfo): WireError;
  /** The protocol's vendor-plausible bad-credential error (G-SEC-3, G-SEC-6). */
  authFailure(): GatewayErrorInfo;
  /** The protocol's "no such model" error (G-RTE-6d). */
  modelNotFound(name: string): GatewayErrorInfo;
}

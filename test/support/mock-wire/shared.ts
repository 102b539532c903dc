// Shared shapes and helpers for the mock upstream's per-protocol wire writers.

import type { Protocol } from '../../../src/protocols/names.ts';

export type { Protocol };

/** A tool call the mock answers with when the request declares tools. */
export interface MockToolCall {
  name: string;
  arguments: Record<string, unknown>;
}

export interface MockUsage {
  input: number;
  output: number;
}

/** What the mock "model" says for one request, already resolved from defaults and overrides. */
export interface MockAnswer {
  text: string;
  usage: MockUsage;
  /** Present only when the request declared tools and the mock was configured with a tool call. */
  toolCall: MockToolCall | undefined;
  /** The text answer stopped at the output-token limit (`length`, `max_tokens`, `MAX_TOKENS`, `incomplete`). */
  truncated: boolean;
  /** The model name the reply reports (the one the request named). */
  model: string;
  /** A per-request sequence number, used to mint ids. */
  seq: number;
}

/** A reply as bytes to write: the first chunk goes with the headers, the rest one by one. */
export interface WireReply {
  status: number;
  headers: Record<string, string>;
  chunks: Array<string | Uint8Array>;
}

export interface StreamContext {
  /** The parsed request body (an object, or undefined when it was not JSON). */
  body: Record<string, unknown> | undefined;
  /** Gemini: the client asked for `?alt=sse`. */
  sse: boolean;
}

export interface ProtocolWire {
  readonly protocol: Protocol;
  /** Whether the request body declares at least one tool in this protocol's shape. */
  declaresTools(body: Record<string, unknown> | undefined): boolean;
  nonStream(answer: MockAnswer, ctx: StreamContext): WireReply;
  stream(answer: MockAnswer, ctx: StreamContext): WireReply;
  /** This provider's native error envelope for an HTTP status (protocols.md §6). */
  error(status: number, message: string): WireReply;
}

/** Splits text into at least three pieces (when it has three characters) of at most 16 code points. */
export function splitText(text: string): string[] {
  const chars = Array.from(text);
  if (chars.length === 0) return [''];
  const size = Math.max(1, Math.min(Math.ceil(chars.length / 3), 16));
  const out: string[] = [];
  for (let i = 0; i < chars.length; i += size) out.push(chars.slice(i, i + size).join(''));
  return out;
}

export function jsonReply(status: number, body: unknown, headers: Record<string, string> = {}): WireReply {
  return {
    status,
    headers: { 'content-type': 'application/json', ...headers },
    chunks: [JSON.stringify(body)],
  };
}

export const SSE_HEADERS: Record<string, string> = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
};

/** One SSE event: optional `event:` line, one `data:` line, blank line. */
export function sse(data: unknown, event?: string, eol = '\n'): string {
  const payload = typeof data === 'string' ? data : JSON.stringify(data);
  return (event === undefined ? '' : `event: ${event}${eol}`) + `data: ${payload}${eol}${eol}`;
}

export function nonEmptyArray(value: unknown): boolean {
  return Array.isArray(value) && value.length > 0;
}

/** Deterministic id suffix: the per-request sequence number padded into a fixed alphabet. */
export function mockId(prefix: string, seq: number, length = 24): string {
  return prefix + `mock${seq.toString(36)}`.padEnd(length, '0');
}

export const MOCK_CREATED = 1767225600;

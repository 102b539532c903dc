// Shared shapes and helpers for the mock upstream's per-protocol wire writers.

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
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
  /**
   * Reasoning the answer opens with, signed (mockSignature): set when the request turned thinking
   * on and the answer is a tool call, as Claude does.
   */
  thinking: string | undefined;
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
  /** Whether the request turns on signed thinking (Claude's extended thinking). */
  thinkingOn?(body: Record<string, unknown>): boolean;
  /** Why the provider would refuse this request with a 400 (the message), or undefined. */
  refusal?(body: Record<string, unknown>): string | undefined;
}

/** Signs this process's mock reasoning, so a signature no mock issued (or altered text) never holds. */
const SIGNING_KEY = randomBytes(32);

export function mockSignature(thinking: string): string {
  return createHmac('sha256', SIGNING_KEY).update(thinking).digest('base64');
}

/** Whether `signature` is the one a mock issued for exactly `thinking`. */
export function mockSignatureHolds(thinking: unknown, signature: unknown): boolean {
  if (typeof thinking !== 'string' || typeof signature !== 'string') return false;
  const expected = Buffer.from(mockSignature(thinking));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** The reasoning a mock answer opens with. */
export function mockThinking(seq: number, tool: string): string {
  return `Mock reasoning #${seq}: the question needs the ${tool} tool.`;
}

/** Claude's refusal of a tool loop continued without the signed thinking block it answered with. */
export function missingThinking(at: string, found: string): string {
  return (
    `${at}.type: Expected \`thinking\` or \`redacted_thinking\`, but found \`${found}\`. When \`thinking\` is enabled, ` +
    'a final `assistant` message must start with a thinking block (preceeding the lastmost set of `tool_use` and ' +
    '`tool_result` blocks). We recommend you include thinking blocks from previous turns. To avoid this ' +
    'requirement, disable `thinking`. Please consult our documentation at ' +
    'https://docs.claude.com/en/docs/build-with-claude/extended-thinking'
  );
}

/** Claude's refusal of a thinking block whose signature it did not issue for that text. */
export function invalidSignature(at: string): string {
  return `${at}: Invalid \`signature\` in \`thinking\` block`;
}

/**
 * The index of the assistant message a tool loop in progress continues (the last assistant
 * message, when it made tool calls and a later user message returns tool results), or -1.
 * `has(content, kind)` tells whether a message's content holds a block of that kind.
 */
export function continuedToolTurn(
  messages: readonly unknown[],
  has: (content: unknown, kind: 'tool_call' | 'tool_result') => boolean,
): number {
  const message = (i: number): Record<string, unknown> => (messages[i] ?? {}) as Record<string, unknown>;
  let i = messages.length - 1;
  while (i >= 0 && message(i).role !== 'assistant') i--;
  if (i < 0 || !has(message(i).content, 'tool_call')) return -1;
  for (let j = i + 1; j < messages.length; j++) if (has(message(j).content, 'tool_result')) return i;
  return -1;
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

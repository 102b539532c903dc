// Cohere v2 chat responses ↔ IR, plus the finish-reason and usage mappings the stream side shares.

import { crypto } from '../../builtins.ts';
import type { ResponseFacts } from '../codec.ts';

import type { ContentBlock, JsonObject, JsonValue, Response, StopReason, Usage } from '../ir.ts';
import { count, field, isObject, str } from '../json-access.ts';
import { assistantContent } from './request.ts';

export function stopFromFinish(reason: string | undefined, sawToolCall: boolean): StopReason {
  switch (reason) {
    case 'MAX_TOKENS':
      return 'max_tokens';
    case 'STOP_SEQUENCE':
      return 'stop_sequence';
    case 'TOOL_CALL':
      return 'tool_use';
    case 'ERROR':
    case 'TIMEOUT':
      return 'error';
    default:
      return sawToolCall ? 'tool_use' : 'end_turn';
  }
}

const FINISH_BY_STOP: Record<StopReason, string> = {
  end_turn: 'COMPLETE',
  stop_sequence: 'STOP_SEQUENCE',
  max_tokens: 'MAX_TOKENS',
  tool_use: 'TOOL_CALL',
  // Cohere has no filtered reason; the answer simply completes.
  content_filter: 'COMPLETE',
  error: 'ERROR',
};

export function finishFromStop(stop: StopReason): string {
  return FINISH_BY_STOP[stop];
}

/** `usage.tokens` is what the model processed; `billed_units` is the fallback when tokens are absent. */
export function usageFromCohere(usage: JsonValue | undefined): Usage | undefined {
  if (!isObject(usage)) return undefined;
  const tokens = field(usage, 'tokens');
  const billed = field(usage, 'billed_units');
  const input = count(field(tokens, 'input_tokens')) ?? count(field(billed, 'input_tokens'));
  const output = count(field(tokens, 'output_tokens')) ?? count(field(billed, 'output_tokens'));
  if (input === undefined && output === undefined) return undefined;
  const cached = count(field(usage, 'cached_tokens'));
  const i = input ?? 0;
  const o = output ?? 0;
  return {
    inputTokens: i,
    outputTokens: o,
    ...(cached ? { cacheReadInputTokens: cached } : {}),
    totalTokens: Math.min(i + o, Number.MAX_SAFE_INTEGER),
  };
}

export function cohereUsage(usage: Usage): JsonObject {
  const counts = { input_tokens: usage.inputTokens, output_tokens: usage.outputTokens };
  const out: JsonObject = { billed_units: { ...counts }, tokens: { ...counts } };
  if (usage.cacheReadInputTokens) out.cached_tokens = usage.cacheReadInputTokens;
  return out;
}

/** The finish reason; tool calls in the message make a completed answer `tool_use`. */
function cohereStop(body: JsonValue): StopReason {
  const calls = field(field(body, 'message'), 'tool_calls');
  return stopFromFinish(str(field(body, 'finish_reason')), Array.isArray(calls) && calls.length > 0);
}

/** Cohere's answers name no model. */
export function cohereAnswerFacts(body: JsonValue): ResponseFacts {
  return { model: '', stopReason: cohereStop(body) };
}

export function readCohereResponse(body: JsonValue): Response {
  const content: ContentBlock[] = assistantContent(field(body, 'message') ?? {});
  return {
    id: str(field(body, 'id')) || crypto.randomUUID(),
    model: '',
    content,
    stopReason: cohereStop(body),
    usage: usageFromCohere(field(body, 'usage')) ?? { inputTokens: 0, outputTokens: 0 },
  };
}

export function writeCohereResponse(res: Response): JsonObject {
  const message: JsonObject = { role: 'assistant' };
  const calls = res.content.filter((b) => b.type === 'tool_use');
  const text = res.content
    .filter((b) => b.type === 'text')
    .map((b) => b.text)
    .join('');
  const content: JsonValue[] = [];
  for (const block of res.content) {
    if (block.type === 'thinking' && block.thinking !== '')
      content.push({ type: 'thinking', thinking: block.thinking });
  }
  if (calls.length > 0) {
    if (text !== '') message.tool_plan = text;
    message.tool_calls = calls.map((c) => ({
      id: c.id,
      type: 'function',
      function: { name: c.name, arguments: JSON.stringify(c.input) },
    }));
  } else if (text !== '') {
    content.push({ type: 'text', text });
  }
  if (content.length > 0) message.content = content;
  return {
    id: crypto.randomUUID(),
    finish_reason: finishFromStop(res.stopReason),
    message,
    usage: cohereUsage(res.usage),
  };
}

export function cohereUsageFromResponse(body: JsonValue): Usage | undefined {
  return usageFromCohere(field(body, 'usage'));
}

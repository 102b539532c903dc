// Bedrock Converse responses ↔ IR, plus the stop-reason and usage mappings the stream side shares.
// Converse answers carry no id or model; the reader mints an id and leaves the model to the lane.

import { crypto } from '../../builtins.ts';
import type { ResponseFacts } from '../codec.ts';

import type { JsonObject, JsonValue, Response, StopReason, Usage } from '../ir.ts';
import { count, field, isObject, str } from '../json-access.ts';
import { newDocumentNames, readBlocks, writeBlocks } from './request.ts';

export function stopFromBedrock(reason: string | undefined): StopReason {
  switch (reason) {
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'max_tokens';
    case 'stop_sequence':
      return 'stop_sequence';
    case 'tool_use':
      return 'tool_use';
    case 'content_filtered':
    case 'guardrail_intervened':
      return 'content_filter';
    case 'malformed_model_output':
    case 'malformed_tool_use':
      return 'error';
    default:
      return 'end_turn';
  }
}

const REASON_BY_STOP: Record<StopReason, string> = {
  end_turn: 'end_turn',
  max_tokens: 'max_tokens',
  stop_sequence: 'stop_sequence',
  tool_use: 'tool_use',
  content_filter: 'content_filtered',
  error: 'malformed_model_output',
};

export function bedrockStopReason(stop: StopReason): string {
  return REASON_BY_STOP[stop];
}

function add(a: number, b: number): number {
  return Math.min(a + b, Number.MAX_SAFE_INTEGER);
}

/**
 * Bedrock's `inputTokens` excludes cache reads and writes (as Anthropic's does); IR input counts
 * every prompt token, so the cache counts are added here and subtracted again on the way out.
 */
export function usageFromBedrock(usage: JsonValue | undefined): Usage | undefined {
  if (!isObject(usage)) return undefined;
  const read = count(usage.cacheReadInputTokens);
  const write = count(usage.cacheWriteInputTokens);
  const input = add(add(count(usage.inputTokens) ?? 0, read ?? 0), write ?? 0);
  const output = count(usage.outputTokens) ?? 0;
  return {
    inputTokens: input,
    outputTokens: output,
    ...(read ? { cacheReadInputTokens: read } : {}),
    ...(write ? { cacheCreationInputTokens: write } : {}),
    totalTokens: count(usage.totalTokens) ?? add(input, output),
  };
}

export function bedrockUsage(usage: Usage): JsonObject {
  const read = usage.cacheReadInputTokens ?? 0;
  const write = usage.cacheCreationInputTokens ?? 0;
  const out: JsonObject = {
    inputTokens: Math.max(0, usage.inputTokens - read - write),
    outputTokens: usage.outputTokens,
    totalTokens: usage.totalTokens ?? add(usage.inputTokens, usage.outputTokens),
  };
  if (read > 0) out.cacheReadInputTokens = read;
  if (write > 0) out.cacheWriteInputTokens = write;
  return out;
}

/** Converse answers name no model. */
export function bedrockAnswerFacts(body: JsonValue): ResponseFacts {
  return { model: '', stopReason: stopFromBedrock(str(field(body, 'stopReason'))) };
}

export function readBedrockResponse(body: JsonValue): Response {
  const message = field(field(body, 'output'), 'message');
  return {
    id: crypto.randomUUID(),
    model: '',
    content: readBlocks(field(message, 'content')),
    stopReason: stopFromBedrock(str(field(body, 'stopReason'))),
    usage: usageFromBedrock(field(body, 'usage')) ?? { inputTokens: 0, outputTokens: 0 },
  };
}

export function writeBedrockResponse(res: Response): JsonObject {
  return {
    output: { message: { role: 'assistant', content: writeBlocks(res.content, newDocumentNames()) } },
    stopReason: bedrockStopReason(res.stopReason),
    usage: bedrockUsage(res.usage),
    metrics: { latencyMs: 0 },
  };
}

export function bedrockUsageFromResponse(body: JsonValue): Usage | undefined {
  return usageFromBedrock(field(body, 'usage'));
}

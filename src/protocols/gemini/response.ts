// Gemini GenerateContentResponse ↔ IR response, plus the finish-reason and usage mappings the
// stream side shares. A SAFETY candidate without content is an ordinary filtered answer (P-XLT-10).

import type { ResponseFacts } from '../codec.ts';
import { mintId } from '../ids.ts';
import type { ContentBlock, JsonObject, JsonValue, Response, StopReason, Usage } from '../ir.ts';
import { arr, count, field, isObject, str } from '../json-access.ts';
import { nativeToolId } from '../tool-ids.ts';
import { gf, readParts, writeParts } from './request.ts';

const FILTERED = new Set([
  'SAFETY',
  'RECITATION',
  'LANGUAGE',
  'BLOCKLIST',
  'PROHIBITED_CONTENT',
  'SPII',
  'IMAGE_SAFETY',
  'IMAGE_PROHIBITED_CONTENT',
  'IMAGE_RECITATION',
]);
const FAILED = new Set(['MALFORMED_FUNCTION_CALL', 'UNEXPECTED_TOOL_CALL', 'TOO_MANY_TOOL_CALLS']);

/** Gemini has no distinct tool-call or stop-sequence reason: STOP with a function call is `tool_use`. */
export function stopFromFinish(reason: string | undefined, sawToolCall: boolean): StopReason {
  if (reason === 'MAX_TOKENS') return 'max_tokens';
  if (reason !== undefined && FILTERED.has(reason)) return 'content_filter';
  if (reason !== undefined && FAILED.has(reason)) return 'error';
  return sawToolCall ? 'tool_use' : 'end_turn';
}

const FINISH_BY_STOP: Record<StopReason, string> = {
  end_turn: 'STOP',
  stop_sequence: 'STOP',
  tool_use: 'STOP',
  max_tokens: 'MAX_TOKENS',
  content_filter: 'SAFETY',
  error: 'OTHER',
};

export function finishFromStop(stop: StopReason): string {
  return FINISH_BY_STOP[stop];
}

function add(a: number, b: number): number {
  return Math.min(a + b, Number.MAX_SAFE_INTEGER);
}

/**
 * IR usage counts input inclusively (cached tokens are part of it, as in Gemini's promptTokenCount)
 * and output inclusively of reasoning (Gemini reports thoughts beside candidates, so they are added).
 */
export function usageFromMetadata(meta: JsonValue | undefined): Usage | undefined {
  if (!isObject(meta)) return undefined;
  const thoughts = count(meta.thoughtsTokenCount);
  const cached = count(meta.cachedContentTokenCount);
  const input = add(count(meta.promptTokenCount) ?? 0, count(meta.toolUsePromptTokenCount) ?? 0);
  const output = add(count(meta.candidatesTokenCount) ?? 0, thoughts ?? 0);
  const total = count(meta.totalTokenCount);
  return {
    inputTokens: input,
    outputTokens: output,
    ...(cached !== undefined && { cacheReadInputTokens: cached }),
    ...(thoughts !== undefined && { reasoningTokens: thoughts }),
    totalTokens: total ?? add(input, output),
  };
}

export function metadataFromUsage(usage: Usage): JsonObject {
  const reasoning = usage.reasoningTokens;
  const meta: JsonObject = {
    promptTokenCount: usage.inputTokens,
    candidatesTokenCount: Math.max(0, usage.outputTokens - (reasoning ?? 0)),
    totalTokenCount: usage.totalTokens ?? add(usage.inputTokens, usage.outputTokens),
  };
  if (usage.cacheReadInputTokens !== undefined) meta.cachedContentTokenCount = usage.cacheReadInputTokens;
  if (reasoning !== undefined) meta.thoughtsTokenCount = reasoning;
  return meta;
}

const ZERO: Usage = { inputTokens: 0, outputTokens: 0 };

/** The first candidate's finish reason (a function call makes STOP `tool_use`); a blocked prompt's filter. */
function geminiStop(body: JsonValue): StopReason {
  const candidate = arr(field(body, 'candidates'))[0];
  // A blocked prompt has no candidate at all, only promptFeedback.blockReason.
  if (candidate === undefined && str(gf(gf(body, 'promptFeedback'), 'blockReason')) !== undefined)
    return 'content_filter';
  const parts = arr(gf(gf(candidate, 'content'), 'parts'));
  const sawToolCall = parts.some((part) => isObject(gf(part, 'functionCall')));
  return stopFromFinish(str(gf(candidate, 'finishReason')), sawToolCall);
}

export function geminiAnswerFacts(body: JsonValue): ResponseFacts {
  return { model: str(gf(body, 'modelVersion')) ?? '', stopReason: geminiStop(body) };
}

export function readGeminiResponse(body: JsonValue): Response {
  const candidate = arr(field(body, 'candidates'))[0];
  const content = gf(candidate, 'content');
  const blocks: ContentBlock[] = content === undefined ? [] : readParts(content, true, new Map());
  const created = Date.parse(str(gf(body, 'createTime')) ?? '');
  return {
    id: str(gf(body, 'responseId')) || mintId('', 23),
    model: str(gf(body, 'modelVersion')) ?? '',
    content: blocks,
    stopReason: geminiStop(body),
    usage: usageFromMetadata(gf(body, 'usageMetadata')) ?? ZERO,
    ...(Number.isFinite(created) && { created: Math.floor(created / 1000) }),
  };
}

/** Response content with tool ids in the Gemini client's form (`gm_…`, P-XLT-5). */
export function geminiParts(content: readonly ContentBlock[]): JsonObject[] {
  const native = content.map((b) => (b.type === 'tool_use' ? { ...b, id: nativeToolId(b.id, 'gm_') } : b));
  return writeParts({ role: 'assistant', content: native }, new Map());
}

export function writeGeminiResponse(res: Response): JsonObject {
  const parts = geminiParts(res.content);
  const candidate: JsonObject = {};
  // Filtered answers come without content, as Gemini sends them.
  if (parts.length > 0 || res.stopReason !== 'content_filter') candidate.content = { role: 'model', parts };
  candidate.finishReason = finishFromStop(res.stopReason);
  candidate.index = 0;
  return {
    candidates: [candidate],
    usageMetadata: metadataFromUsage(res.usage),
    ...(res.model !== '' && { modelVersion: res.model }),
    responseId: mintId('', 23),
  };
}

export function geminiUsageFromResponse(body: JsonValue): Usage | undefined {
  return usageFromMetadata(gf(body, 'usageMetadata'));
}

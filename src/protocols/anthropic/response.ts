// Anthropic Messages non-stream responses: `message` body ↔ IR.Response, and the usage tap's view.

import type { ResponseFacts } from '../codec.ts';
import { mintId } from '../ids.ts';
import type { ContentBlock, JsonObject, JsonValue, Response, StopReason, Usage } from '../ir.ts';
import { arr, count, field, isObject, str } from '../json-access.ts';
import { nativeToolId } from '../tool-ids.ts';

export function stopFromAnthropic(reason: string | undefined): StopReason {
  switch (reason) {
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'max_tokens';
    case 'stop_sequence':
      return 'stop_sequence';
    case 'tool_use':
      return 'tool_use';
    case 'refusal':
      return 'content_filter';
    default:
      return 'end_turn'; // end_turn, pause_turn, or nothing reported
  }
}

export function anthropicStop(stop: StopReason): string {
  switch (stop) {
    case 'max_tokens':
    case 'stop_sequence':
    case 'tool_use':
    case 'end_turn':
      return stop;
    case 'content_filter':
      return 'refusal';
    case 'error':
      return 'end_turn';
  }
}

/** IR usage from an Anthropic usage object: uncached input plus both cache counts (see IR Usage). */
export function usageFromAnthropicUsage(usage: JsonValue | undefined): Usage | undefined {
  if (!isObject(usage)) return undefined;
  const input = count(usage.input_tokens);
  const output = count(usage.output_tokens);
  if (input === undefined && output === undefined) return undefined;
  const read = count(usage.cache_read_input_tokens);
  const write = count(usage.cache_creation_input_tokens);
  return {
    inputTokens: (input ?? 0) + (read ?? 0) + (write ?? 0),
    outputTokens: output ?? 0,
    ...(read ? { cacheReadInputTokens: read } : {}),
    ...(write ? { cacheCreationInputTokens: write } : {}),
  };
}

export function anthropicUsage(u: Usage): JsonObject {
  const read = u.cacheReadInputTokens ?? 0;
  const write = u.cacheCreationInputTokens ?? 0;
  return {
    input_tokens: Math.max(0, u.inputTokens - read - write),
    output_tokens: u.outputTokens,
    cache_creation_input_tokens: write,
    cache_read_input_tokens: read,
  };
}

export function usageFromAnthropicResponse(body: JsonValue): Usage | undefined {
  return usageFromAnthropicUsage(field(body, 'usage'));
}

export function anthropicAnswerFacts(body: JsonValue): ResponseFacts {
  return {
    model: str(field(body, 'model')) ?? '',
    stopReason: stopFromAnthropic(str(field(body, 'stop_reason'))),
  };
}

export function readAnthropicResponse(body: JsonValue): Response {
  const content: ContentBlock[] = [];
  for (const b of arr(field(body, 'content'))) {
    switch (str(field(b, 'type'))) {
      case 'text': {
        const citations = field(b, 'citations');
        content.push({
          type: 'text',
          text: str(field(b, 'text')) ?? '',
          ...(Array.isArray(citations) && citations.length > 0 ? { citations } : {}),
        });
        break;
      }
      case 'thinking': {
        const signature = str(field(b, 'signature'));
        content.push({
          type: 'thinking',
          thinking: str(field(b, 'thinking')) ?? '',
          ...(signature ? { signature } : {}),
        });
        break;
      }
      case 'redacted_thinking':
        content.push({ type: 'redacted_thinking', data: str(field(b, 'data')) ?? '' });
        break;
      case 'tool_use': {
        const input = field(b, 'input');
        content.push({
          type: 'tool_use',
          id: str(field(b, 'id')) ?? '',
          name: str(field(b, 'name')) ?? '',
          input: isObject(input) ? input : {},
        });
        break;
      }
    }
  }
  const stopSequence = str(field(body, 'stop_sequence'));
  return {
    id: str(field(body, 'id')) ?? '',
    model: str(field(body, 'model')) ?? '',
    content,
    stopReason: stopFromAnthropic(str(field(body, 'stop_reason'))),
    usage: usageFromAnthropicResponse(body) ?? { inputTokens: 0, outputTokens: 0 },
    ...(stopSequence !== undefined ? { stopSequence } : {}),
  };
}

export function writeAnthropicBlock(b: ContentBlock): JsonObject | undefined {
  switch (b.type) {
    case 'text':
      // No `citations` key without citations: clients that validate the schema (the Vercel AI
      // SDK's Anthropic provider) reject `null` there.
      return b.citations && b.citations.length > 0
        ? { type: 'text', text: b.text, citations: [...b.citations] }
        : { type: 'text', text: b.text };
    case 'thinking':
      // A thinking block always carries a signature (the SDK types and the Vercel AI SDK's schema
      // require one, and Anthropic verifies it on replay): unsigned reasoning from another
      // provider has no Anthropic form here. Streams show it, as content_block_start did.
      return b.signature ? { type: 'thinking', thinking: b.thinking, signature: b.signature } : undefined;
    case 'redacted_thinking':
      return { type: 'redacted_thinking', data: b.data };
    case 'tool_use':
      return { type: 'tool_use', id: nativeToolId(b.id, 'toolu_'), name: b.name, input: b.input };
    default:
      return undefined;
  }
}

export function writeAnthropicResponse(res: Response): JsonObject {
  // P-XLT-4: reasoning leads the content.
  const reasoning = res.content.filter((b) => b.type === 'thinking' || b.type === 'redacted_thinking');
  const rest = res.content.filter((b) => b.type !== 'thinking' && b.type !== 'redacted_thinking');
  return {
    id: mintId('msg_'),
    type: 'message',
    role: 'assistant',
    model: res.model,
    content: [...reasoning, ...rest].flatMap((b) => {
      const w = writeAnthropicBlock(b);
      return w ? [w] : [];
    }),
    stop_reason: anthropicStop(res.stopReason),
    stop_sequence: res.stopReason === 'stop_sequence' ? (res.stopSequence ?? null) : null,
    usage: anthropicUsage(res.usage),
  };
}

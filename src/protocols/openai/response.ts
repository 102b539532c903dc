// OpenAI Chat Completions non-stream responses: `chat.completion` body ↔ IR.Response, and the usage
// tap's view of it (P-USE-1).

import type { ResponseFacts } from '../codec.ts';
import { mintId } from '../ids.ts';
import type {
  ContentBlock,
  JsonObject,
  JsonValue,
  RedactedThinkingBlock,
  Response,
  StopReason,
  ThinkingBlock,
  Usage,
} from '../ir.ts';
import { arr, count, field, isObject, str } from '../json-access.ts';
import { nativeToolId } from '../tool-ids.ts';
import { writeReasoningDetails } from './reasoning-details.ts';
import { parseToolArguments } from './request.ts';

export function stopFromFinish(reason: string | undefined, sawToolCall: boolean): StopReason {
  switch (reason) {
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
    case 'function_call':
      return 'tool_use';
    case 'content_filter':
      return 'content_filter';
    default:
      // Some compatible servers answer `stop` after tool calls; the calls are what matters.
      return sawToolCall ? 'tool_use' : 'end_turn';
  }
}

export function finishFromStop(stop: StopReason): string {
  switch (stop) {
    case 'max_tokens':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'content_filter':
      return 'content_filter';
    case 'end_turn':
    case 'stop_sequence':
    case 'error':
      return 'stop';
  }
}

/** IR usage from an OpenAI `usage` object (`prompt_tokens` already includes cached tokens). */
export function usageFromOpenAIUsage(usage: JsonValue | undefined): Usage | undefined {
  if (!isObject(usage)) return undefined;
  const input = count(usage.prompt_tokens);
  const output = count(usage.completion_tokens);
  if (input === undefined && output === undefined) return undefined;
  const cacheRead = count(field(usage.prompt_tokens_details, 'cached_tokens'));
  const cacheWrite = count(field(usage.prompt_tokens_details, 'cache_write_tokens'));
  const reasoning = count(field(usage.completion_tokens_details, 'reasoning_tokens'));
  const total = count(usage.total_tokens);
  return {
    inputTokens: input ?? 0,
    outputTokens: output ?? 0,
    ...(cacheRead ? { cacheReadInputTokens: cacheRead } : {}),
    ...(cacheWrite ? { cacheCreationInputTokens: cacheWrite } : {}),
    ...(reasoning ? { reasoningTokens: reasoning } : {}),
    ...(total !== undefined ? { totalTokens: total } : {}),
  };
}

export function openAIUsage(u: Usage): JsonObject {
  const out: JsonObject = {
    prompt_tokens: u.inputTokens,
    completion_tokens: u.outputTokens,
    total_tokens: u.totalTokens ?? u.inputTokens + u.outputTokens,
  };
  const prompt: JsonObject = { cached_tokens: u.cacheReadInputTokens ?? 0 };
  if (u.cacheCreationInputTokens) prompt.cache_write_tokens = u.cacheCreationInputTokens;
  out.prompt_tokens_details = prompt;
  out.completion_tokens_details = { reasoning_tokens: u.reasoningTokens ?? 0 };
  return out;
}

export function usageFromOpenAIResponse(body: JsonValue): Usage | undefined {
  return usageFromOpenAIUsage(field(body, 'usage'));
}

/** The first choice's stop reason: a named tool call makes `stop` a `tool_use`. */
function openAIStop(body: JsonValue): StopReason {
  const choice = arr(field(body, 'choices'))[0];
  const calls = arr(field(field(choice, 'message'), 'tool_calls'));
  const sawToolCall = calls.some((call) => str(field(field(call, 'function'), 'name')) !== undefined);
  return stopFromFinish(str(field(choice, 'finish_reason')), sawToolCall);
}

export function openAIAnswerFacts(body: JsonValue): ResponseFacts {
  return { model: str(field(body, 'model')) ?? '', stopReason: openAIStop(body) };
}

export function readOpenAIResponse(body: JsonValue): Response {
  const choice = arr(field(body, 'choices'))[0];
  const msg = field(choice, 'message');
  const content: ContentBlock[] = [];
  const reasoning = str(field(msg, 'reasoning_content')) ?? str(field(msg, 'reasoning'));
  if (reasoning) content.push({ type: 'thinking', thinking: reasoning });
  const text = field(msg, 'content');
  if (typeof text === 'string' && text !== '') content.push({ type: 'text', text });
  for (const part of arr(text)) {
    const t = str(field(part, 'text'));
    if (t !== undefined) content.push({ type: 'text', text: t });
  }
  const refusal = str(field(msg, 'refusal'));
  if (refusal) content.push({ type: 'text', text: refusal });
  for (const call of arr(field(msg, 'tool_calls'))) {
    const fn = field(call, 'function');
    const name = str(field(fn, 'name'));
    if (name === undefined) continue;
    content.push({
      type: 'tool_use',
      id: str(field(call, 'id')) ?? '',
      name,
      input: parseToolArguments(field(fn, 'arguments')),
    });
  }
  const created = count(field(body, 'created'));
  return {
    id: str(field(body, 'id')) ?? '',
    model: str(field(body, 'model')) ?? '',
    content,
    stopReason: openAIStop(body),
    usage: usageFromOpenAIResponse(body) ?? { inputTokens: 0, outputTokens: 0 },
    ...(created !== undefined ? { created } : {}),
  };
}

export function writeOpenAIResponse(res: Response): JsonObject {
  let text: string | null = null;
  let reasoning: string | undefined;
  const calls: JsonObject[] = [];
  const thoughts: (ThinkingBlock | RedactedThinkingBlock)[] = [];
  for (const b of res.content) {
    if (b.type === 'text') text = (text ?? '') + b.text;
    else if (b.type === 'thinking') {
      reasoning = (reasoning ?? '') + b.thinking;
      thoughts.push(b);
    } else if (b.type === 'redacted_thinking') thoughts.push(b);
    else if (b.type === 'tool_use') {
      calls.push({
        id: nativeToolId(b.id, 'call_'),
        type: 'function',
        function: { name: b.name, arguments: JSON.stringify(b.input) },
      });
    }
  }
  const message: JsonObject = { role: 'assistant', content: text, refusal: null };
  if (reasoning) message.reasoning_content = reasoning;
  const details = writeReasoningDetails(thoughts);
  if (details !== undefined) message.reasoning_details = details;
  if (calls.length > 0) message.tool_calls = calls;
  return {
    id: mintId('chatcmpl-'),
    object: 'chat.completion',
    created: res.created ?? Math.floor(Date.now() / 1000),
    model: res.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishFromStop(res.stopReason) }],
    usage: openAIUsage(res.usage),
  };
}

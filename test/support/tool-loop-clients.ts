// Two-turn tool loops with reasoning on, driven through the official OpenAI Chat and Cohere v2 SDKs
// the way their docs show: turn 1 asks with a tool declared and reasoning on, the client appends
// the assistant message the SDK gave it and answers each tool call, turn 2 asks again. Used by the
// signed-reasoning e2e tests (issue 20, item 2).

import { type Cohere, CohereClientV2 } from 'cohere-ai';
import OpenAI from 'openai';
import { RESULT_TEXT, WEATHER_TOOL } from './matrix-clients/shared.ts';
import { LANES } from './six-providers.ts';

export const LOOP_PROMPT = 'What is the weather in Paris?';
export const LOOP_TOOL_CALL = { name: WEATHER_TOOL.name, arguments: { city: 'Paris' } };

export interface LoopClient {
  readonly baseUrl: string;
  readonly token: string;
  /** Pool or model name. */
  readonly name: string;
  /** The SDKs' fetch (tests pass one that opens a fresh connection per request). */
  readonly fetch?: typeof fetch;
}

// ---- OpenAI Chat -------------------------------------------------------------------------

function openai(c: LoopClient): OpenAI {
  return new OpenAI({
    baseURL: `${c.baseUrl}/v1`,
    apiKey: c.token,
    maxRetries: 0,
    ...(c.fetch ? { fetch: c.fetch } : {}),
  });
}

const OPENAI_TOOLS: OpenAI.ChatCompletionTool[] = [
  {
    type: 'function',
    function: {
      name: WEATHER_TOOL.name,
      description: WEATHER_TOOL.description,
      parameters: WEATHER_TOOL.schema,
    },
  },
];

function openaiParams(c: LoopClient, messages: OpenAI.ChatCompletionMessageParam[]) {
  return { model: c.name, messages, tools: OPENAI_TOOLS, reasoning_effort: 'low' as const };
}

/**
 * Turn 1: the assistant message exactly as the SDK returned it. Streamed, it is the SDK's own
 * accumulation (`chat.completions.stream(…).finalMessage()`).
 */
export async function openaiFirstTurn(c: LoopClient, stream: boolean): Promise<OpenAI.ChatCompletionMessage> {
  const client = openai(c);
  const params = openaiParams(c, [{ role: 'user', content: LOOP_PROMPT }]);
  if (!stream) return (await client.chat.completions.create(params)).choices[0]!.message;
  return client.chat.completions.stream(params).finalMessage();
}

/** The message rebuilt from its content and tool calls only, as many client libraries keep it. */
export function openaiRebuilt(message: OpenAI.ChatCompletionMessage): OpenAI.ChatCompletionMessageParam {
  return {
    role: 'assistant',
    content: message.content,
    ...(message.tool_calls ? { tool_calls: message.tool_calls } : {}),
  };
}

/** Turn 2: `assistant` appended, each of its tool calls answered; the answer's text. */
export async function openaiSecondTurn(
  c: LoopClient,
  stream: boolean,
  assistant: OpenAI.ChatCompletionMessageParam,
): Promise<string> {
  const calls = 'tool_calls' in assistant ? (assistant.tool_calls ?? []) : [];
  const messages: OpenAI.ChatCompletionMessageParam[] = [
    { role: 'user', content: LOOP_PROMPT },
    assistant,
    ...calls.map((call) => ({ role: 'tool' as const, tool_call_id: call.id, content: RESULT_TEXT })),
  ];
  const client = openai(c);
  if (!stream)
    return (
      (await client.chat.completions.create(openaiParams(c, messages))).choices[0]!.message.content ?? ''
    );
  return (await client.chat.completions.stream(openaiParams(c, messages)).finalContent()) ?? '';
}

// ---- Cohere v2 -----------------------------------------------------------------------------

function cohere(c: LoopClient): CohereClientV2 {
  return new CohereClientV2({
    token: c.token,
    environment: c.baseUrl,
    maxRetries: 0,
    ...(c.fetch ? { fetch: c.fetch } : {}),
  });
}

const COHERE_TOOLS: Cohere.ToolV2[] = [
  {
    type: 'function',
    function: {
      name: WEATHER_TOOL.name,
      description: WEATHER_TOOL.description,
      parameters: { ...WEATHER_TOOL.schema },
    },
  },
];

function cohereParams(c: LoopClient, messages: Cohere.ChatMessageV2[]) {
  return {
    model: c.name,
    messages,
    tools: COHERE_TOOLS,
    thinking: { type: 'enabled' as const, tokenBudget: 2048 },
  };
}

/**
 * Turn 1: the assistant message as the SDK gave it (`response.message`), or, streamed, assembled
 * from the events as Cohere's streaming guide does: thinking and text from `content-delta`, the
 * plan from `tool-plan-delta`, calls from `tool-call-start` and `tool-call-delta`.
 */
export async function cohereFirstTurn(c: LoopClient, stream: boolean): Promise<Cohere.ChatMessageV2> {
  const client = cohere(c);
  const params = cohereParams(c, [{ role: 'user', content: LOOP_PROMPT }]);
  if (!stream) return { ...(await client.chat(params)).message } as Cohere.ChatMessageV2;
  let thinking = '';
  let text = '';
  let plan = '';
  const calls: Cohere.ToolCallV2[] = [];
  for await (const e of await client.chatStream(params)) {
    if (e.type === 'content-delta') {
      thinking += e.delta?.message?.content?.thinking ?? '';
      text += e.delta?.message?.content?.text ?? '';
    } else if (e.type === 'tool-plan-delta') {
      plan += e.delta?.message?.toolPlan ?? '';
    } else if (e.type === 'tool-call-start') {
      const call = e.delta?.message?.toolCalls;
      calls.push({
        id: call?.id ?? '',
        type: 'function',
        function: { name: call?.function?.name ?? '', arguments: call?.function?.arguments ?? '' },
      });
    } else if (e.type === 'tool-call-delta') {
      const last = calls.at(-1);
      if (last?.function) last.function.arguments += e.delta?.message?.toolCalls?.function?.arguments ?? '';
    }
  }
  const content: Cohere.AssistantMessageV2ContentOneItem[] = [];
  if (thinking !== '') content.push({ type: 'thinking', thinking });
  if (text !== '') content.push({ type: 'text', text });
  return {
    role: 'assistant',
    ...(content.length > 0 ? { content } : {}),
    ...(plan !== '' ? { toolPlan: plan } : {}),
    ...(calls.length > 0 ? { toolCalls: calls } : {}),
  };
}

/** Turn 2: `assistant` appended, each of its tool calls answered; the answer's text. */
export async function cohereSecondTurn(
  c: LoopClient,
  stream: boolean,
  assistant: Cohere.ChatMessageV2,
): Promise<string> {
  const calls = assistant.role === 'assistant' ? (assistant.toolCalls ?? []) : [];
  const messages: Cohere.ChatMessageV2[] = [
    { role: 'user', content: LOOP_PROMPT },
    assistant,
    ...calls.map((call) => ({ role: 'tool' as const, toolCallId: call.id ?? '', content: RESULT_TEXT })),
  ];
  const client = cohere(c);
  if (!stream) {
    const r = await client.chat(cohereParams(c, messages));
    return (r.message.content ?? []).map((item) => (item.type === 'text' ? item.text : '')).join('');
  }
  let text = '';
  for await (const e of await client.chatStream(cohereParams(c, messages))) {
    if (e.type === 'content-delta') text += e.delta?.message?.content?.text ?? '';
  }
  return text;
}

/** The ids of an assistant message's tool calls, in either SDK's shape. */
export function toolCallIds(message: OpenAI.ChatCompletionMessageParam | Cohere.ChatMessageV2): string[] {
  if ('tool_calls' in message) return (message.tool_calls ?? []).map((call) => call.id);
  if ('toolCalls' in message) return (message.toolCalls ?? []).map((call) => call.id ?? '');
  return [];
}

// ---- the deployment ------------------------------------------------------------------------

/** Two client tokens: reasoning remembered for one must never reach the other. */
export const LOOP_TOKENS = ['loop-token-a', 'loop-token-b'] as const;

/**
 * Claude behind both protocols that sign its reasoning (Anthropic and Converse, models named as in
 * six-providers.ts), on one mock, for `auth.mode: token` with LOOP_TOKENS, or under `extra`
 * (governance, workers) when given.
 */
export function claudeLanesConfig(extra = ''): string {
  const lanes = [LANES.anthropic, LANES.bedrock];
  return [
    'listen: 127.0.0.1:0',
    ...(extra.includes('governance:')
      ? []
      : ['auth:', '  mode: token', `  client_tokens: [${LOOP_TOKENS.join(', ')}]`]),
    'providers:',
    ...lanes.map((l) => `  ${l.provider}:\n    api_key_env: ${l.keyEnv}`),
    'models:',
    ...lanes.map((l) => `  ${l.model}:\n    provider: ${l.provider}\n    max_concurrent: 8`),
    extra,
  ].join('\n');
}

export function claudeLanesCatalog(mockUrl: string): string {
  return [LANES.anthropic, LANES.bedrock]
    .map((l) => `${l.provider}:\n  protocol: ${l.protocol}\n  base_url: ${mockUrl}\n`)
    .join('');
}

export function claudeLanesEnv(): Record<string, string> {
  return { [LANES.anthropic.keyEnv]: LANES.anthropic.key, [LANES.bedrock.keyEnv]: LANES.bedrock.key };
}

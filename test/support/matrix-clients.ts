// Each official SDK driven through a text turn and a two-turn tool round trip, reporting what the SDK itself
// surfaced (text, stop reason, usage and tool calls under the SDK's own field names) for the translation matrix.
//
// Turn 1 declares WEATHER_TOOL; turn 2 replays the assistant turn as the SDK returned it and answers every call
// with the ids the client got, the way each SDK's own docs show a tool loop.

import Anthropic from '@anthropic-ai/sdk';
import {
  type ContentBlock as BedrockBlock,
  type Message as BedrockMessage,
  ConverseCommand,
  type ConverseCommandInput,
  ConverseStreamCommand,
} from '@aws-sdk/client-bedrock-runtime';
import { type Content, GoogleGenAI, type Part } from '@google/genai';
import { type Cohere, CohereClientV2 } from 'cohere-ai';
import OpenAI from 'openai';
import type { Protocol } from '../../src/protocols/names.ts';
import { bedrockClient } from './sdk-calls.ts';

export const WEATHER_TOOL = {
  name: 'get_weather',
  description: 'Current weather for a city.',
  schema: {
    type: 'object' as const,
    properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
    required: ['city'],
  },
};

/** What the tool "returned"; sent back on turn 2. */
export const WEATHER_RESULT = { temp_c: 21, sky: 'sunny' };

export interface ToolCallSeen {
  id: string;
  name: string;
  args: unknown;
}

export interface TurnResult {
  text: string;
  /** The native stop reason (Responses: the response `status`). */
  stop: string | undefined;
  /** [input, output] under the SDK's own usage field names. */
  usage: [number | undefined, number | undefined];
  toolCalls: ToolCallSeen[];
  /** Text deltas seen (streams only). */
  deltas: number;
}

export interface ToolConversation {
  readonly first: TurnResult;
  /** Turn 2: the assistant turn replayed and every call answered with WEATHER_RESULT. */
  answer(stream: boolean): Promise<TurnResult>;
}

/** Optional request settings every protocol can carry (P-IR-1, P-XLT-6). */
export interface AskOptions {
  system?: string;
  temperature?: number;
}

export interface MatrixClient {
  readonly protocol: Protocol;
  /** The max-tokens value this client sends, if any (P-XLT-3 checks). */
  readonly maxTokens: number | undefined;
  /** Top-level request fields only this ingress protocol has; they must not reach another protocol (P-XLT-2). */
  readonly foreignFields: readonly string[];
  ask(stream: boolean, prompt: string, opts?: AskOptions): Promise<TurnResult>;
  askWithTool(stream: boolean, prompt: string): Promise<ToolConversation>;
  close(): void;
}

export interface MatrixClientOptions {
  baseUrl: string;
  token: string;
  /** Pool or model name. */
  name: string;
}

function parseArgs(raw: string | undefined): unknown {
  try {
    return JSON.parse(raw ?? '');
  } catch {
    return { unparsable: raw };
  }
}

const RESULT_TEXT = JSON.stringify(WEATHER_RESULT);

// ---- OpenAI Chat Completions -------------------------------------------------------------

function openaiChat(o: MatrixClientOptions): MatrixClient {
  const client = new OpenAI({ baseURL: `${o.baseUrl}/v1`, apiKey: o.token, maxRetries: 0 });
  // OpenAI-only knobs a real client sends; the other protocols would reject them (P-XLT-2).
  const extras = {
    seed: 7,
    n: 1,
    logit_bias: {},
    frequency_penalty: 0,
    presence_penalty: 0,
    logprobs: false,
  };
  const tools: OpenAI.ChatCompletionTool[] = [
    {
      type: 'function',
      function: {
        name: WEATHER_TOOL.name,
        description: WEATHER_TOOL.description,
        parameters: WEATHER_TOOL.schema,
      },
    },
  ];
  type Msg = OpenAI.ChatCompletionMessageParam;

  async function turn(
    messages: Msg[],
    stream: boolean,
    withTools: boolean,
    opts: AskOptions = {},
  ): Promise<{ r: TurnResult; assistant: Msg }> {
    const system: Msg[] = opts.system === undefined ? [] : [{ role: 'system', content: opts.system }];
    const base = {
      model: o.name,
      messages: [...system, ...messages],
      ...extras,
      ...(opts.temperature === undefined ? {} : { temperature: opts.temperature }),
      ...(withTools ? { tools } : {}),
    };
    if (!stream) {
      const c = await client.chat.completions.create(base);
      const choice = c.choices[0];
      const m = choice?.message;
      const calls = (m?.tool_calls ?? []).flatMap((tc) =>
        tc.type === 'function'
          ? [{ id: tc.id, name: tc.function.name, args: parseArgs(tc.function.arguments), raw: tc }]
          : [],
      );
      return {
        r: {
          text: m?.content ?? '',
          stop: choice?.finish_reason,
          usage: [c.usage?.prompt_tokens, c.usage?.completion_tokens],
          toolCalls: calls.map(({ id, name, args }) => ({ id, name, args })),
          deltas: 0,
        },
        assistant: {
          role: 'assistant',
          content: m?.content ?? null,
          ...(calls.length > 0 ? { tool_calls: calls.map((c) => c.raw) } : {}),
        },
      };
    }
    const s = await client.chat.completions.create({
      ...base,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let deltas = 0;
    let stop: string | undefined;
    let usage: TurnResult['usage'] = [undefined, undefined];
    const calls = new Map<number, { id: string; name: string; args: string }>();
    for await (const chunk of s) {
      const choice = chunk.choices[0];
      const d = choice?.delta;
      if (d?.content) {
        text += d.content;
        deltas += 1;
      }
      for (const tc of d?.tool_calls ?? []) {
        const call = calls.get(tc.index) ?? { id: '', name: '', args: '' };
        if (tc.id) call.id = tc.id;
        if (tc.function?.name) call.name += tc.function.name;
        if (tc.function?.arguments) call.args += tc.function.arguments;
        calls.set(tc.index, call);
      }
      if (choice?.finish_reason) stop = choice.finish_reason;
      if (chunk.usage) usage = [chunk.usage.prompt_tokens, chunk.usage.completion_tokens];
    }
    const list = [...calls.values()];
    return {
      r: {
        text,
        stop,
        usage,
        toolCalls: list.map((c) => ({ id: c.id, name: c.name, args: parseArgs(c.args) })),
        deltas,
      },
      assistant: {
        role: 'assistant',
        content: text === '' ? null : text,
        ...(list.length > 0
          ? {
              tool_calls: list.map((c) => ({
                id: c.id,
                type: 'function' as const,
                function: { name: c.name, arguments: c.args },
              })),
            }
          : {}),
      },
    };
  }

  return {
    protocol: 'openai',
    maxTokens: undefined,
    foreignFields: Object.keys(extras),
    async ask(stream, prompt, opts) {
      return (await turn([{ role: 'user', content: prompt }], stream, false, opts)).r;
    },
    async askWithTool(stream, prompt) {
      const history: Msg[] = [{ role: 'user', content: prompt }];
      const first = await turn(history, stream, true);
      return {
        first: first.r,
        answer: async (stream2) => {
          const results: Msg[] = first.r.toolCalls.map((c) => ({
            role: 'tool',
            tool_call_id: c.id,
            content: RESULT_TEXT,
          }));
          return (await turn([...history, first.assistant, ...results], stream2, true)).r;
        },
      };
    },
    close() {},
  };
}

// ---- OpenAI Responses --------------------------------------------------------------------

function openaiResponses(o: MatrixClientOptions): MatrixClient {
  const client = new OpenAI({ baseURL: `${o.baseUrl}/v1`, apiKey: o.token, maxRetries: 0 });
  const extras = { store: false, truncation: 'disabled' as const };
  const tools: OpenAI.Responses.Tool[] = [
    {
      type: 'function',
      name: WEATHER_TOOL.name,
      description: WEATHER_TOOL.description,
      parameters: WEATHER_TOOL.schema,
      strict: false,
    },
  ];
  type Item = OpenAI.Responses.ResponseInputItem;

  async function turn(
    input: Item[],
    stream: boolean,
    withTools: boolean,
    opts: AskOptions = {},
  ): Promise<{ r: TurnResult; output: Item[] }> {
    const base = {
      model: o.name,
      input,
      ...extras,
      ...(opts.system === undefined ? {} : { instructions: opts.system }),
      ...(opts.temperature === undefined ? {} : { temperature: opts.temperature }),
      ...(withTools ? { tools } : {}),
    };
    const callsOf = (output: OpenAI.Responses.ResponseOutputItem[]): ToolCallSeen[] =>
      output.flatMap((item) =>
        item.type === 'function_call'
          ? [{ id: item.call_id, name: item.name, args: parseArgs(item.arguments) }]
          : [],
      );
    if (!stream) {
      const r = await client.responses.create(base);
      return {
        r: {
          text: r.output_text,
          stop: r.status,
          usage: [r.usage?.input_tokens, r.usage?.output_tokens],
          toolCalls: callsOf(r.output),
          deltas: 0,
        },
        output: r.output as Item[],
      };
    }
    const s = await client.responses.create({ ...base, stream: true });
    let text = '';
    let deltas = 0;
    let final: OpenAI.Responses.Response | undefined;
    const done: OpenAI.Responses.ResponseOutputItem[] = [];
    let lastSeq = -1;
    for await (const e of s) {
      if (e.sequence_number !== lastSeq + 1)
        throw new Error(`sequence_number ${e.sequence_number} after ${lastSeq}`);
      lastSeq = e.sequence_number;
      if (e.type === 'response.output_text.delta') {
        text += e.delta;
        deltas += 1;
      }
      if (e.type === 'response.output_item.done') done.push(e.item);
      if (e.type === 'response.completed' || e.type === 'response.incomplete') final = e.response;
    }
    if (final === undefined) throw new Error('stream ended without response.completed');
    return {
      r: {
        text,
        stop: final.status,
        usage: [final.usage?.input_tokens, final.usage?.output_tokens],
        // What a streaming client acts on: the finished items as they arrive.
        toolCalls: callsOf(done),
        deltas,
      },
      output: final.output as Item[],
    };
  }

  return {
    protocol: 'responses',
    maxTokens: undefined,
    foreignFields: Object.keys(extras),
    async ask(stream, prompt, opts) {
      return (await turn([{ role: 'user', content: prompt }], stream, false, opts)).r;
    },
    async askWithTool(stream, prompt) {
      const history: Item[] = [{ role: 'user', content: prompt }];
      const first = await turn(history, stream, true);
      return {
        first: first.r,
        answer: async (stream2) => {
          const results: Item[] = first.r.toolCalls.map((c) => ({
            type: 'function_call_output',
            call_id: c.id,
            output: RESULT_TEXT,
          }));
          return (await turn([...history, ...first.output, ...results], stream2, true)).r;
        },
      };
    },
    close() {},
  };
}

// ---- Anthropic Messages ------------------------------------------------------------------

function anthropic(o: MatrixClientOptions): MatrixClient {
  const client = new Anthropic({ baseURL: `${o.baseUrl}/${o.name}`, apiKey: o.token, maxRetries: 0 });
  const maxTokens = 256;
  const tools: Anthropic.Tool[] = [
    { name: WEATHER_TOOL.name, description: WEATHER_TOOL.description, input_schema: WEATHER_TOOL.schema },
  ];
  type Msg = Anthropic.MessageParam;
  type Block = Anthropic.ContentBlockParam;

  async function turn(
    messages: Msg[],
    stream: boolean,
    withTools: boolean,
    opts: AskOptions = {},
  ): Promise<{ r: TurnResult; assistant: Msg }> {
    const params = {
      model: o.name,
      max_tokens: maxTokens,
      messages,
      ...(opts.system === undefined ? {} : { system: opts.system }),
      ...(opts.temperature === undefined ? {} : { temperature: opts.temperature }),
      ...(withTools ? { tools } : {}),
    };
    let m: Anthropic.Message;
    let deltas = 0;
    if (!stream) {
      m = await client.messages.create(params);
    } else {
      // The SDK's own accumulator (MessageStream): it checks block order and applies message_delta usage.
      const s = client.messages.stream(params);
      for await (const e of s)
        if (e.type === 'content_block_delta' && e.delta.type === 'text_delta') deltas += 1;
      m = await s.finalMessage();
    }
    const blocks: Block[] = [];
    const calls: ToolCallSeen[] = [];
    let text = '';
    for (const b of m.content) {
      if (b.type === 'text') {
        text += b.text;
        blocks.push({ type: 'text', text: b.text });
      } else if (b.type === 'tool_use') {
        calls.push({ id: b.id, name: b.name, args: b.input });
        blocks.push({ type: 'tool_use', id: b.id, name: b.name, input: b.input });
      }
    }
    return {
      r: {
        text,
        stop: m.stop_reason ?? undefined,
        usage: [m.usage.input_tokens, m.usage.output_tokens],
        toolCalls: calls,
        deltas,
      },
      assistant: { role: 'assistant', content: blocks },
    };
  }

  return {
    protocol: 'anthropic',
    maxTokens,
    foreignFields: [],
    async ask(stream, prompt, opts) {
      return (await turn([{ role: 'user', content: prompt }], stream, false, opts)).r;
    },
    async askWithTool(stream, prompt) {
      const history: Msg[] = [{ role: 'user', content: prompt }];
      const first = await turn(history, stream, true);
      return {
        first: first.r,
        answer: async (stream2) => {
          const results: Block[] = first.r.toolCalls.map((c) => ({
            type: 'tool_result',
            tool_use_id: c.id,
            content: RESULT_TEXT,
          }));
          return (
            await turn([...history, first.assistant, { role: 'user', content: results }], stream2, true)
          ).r;
        },
      };
    },
    close() {},
  };
}

// ---- Gemini generateContent ----------------------------------------------------------------

function gemini(o: MatrixClientOptions): MatrixClient {
  const client = new GoogleGenAI({ apiKey: o.token, httpOptions: { baseUrl: o.baseUrl } });
  const tools = [
    {
      functionDeclarations: [
        {
          name: WEATHER_TOOL.name,
          description: WEATHER_TOOL.description,
          parametersJsonSchema: WEATHER_TOOL.schema,
        },
      ],
    },
  ];

  async function turn(
    contents: Content[],
    stream: boolean,
    withTools: boolean,
    opts: AskOptions = {},
  ): Promise<{ r: TurnResult; assistant: Content }> {
    const config = {
      ...(opts.system === undefined ? {} : { systemInstruction: opts.system }),
      ...(opts.temperature === undefined ? {} : { temperature: opts.temperature }),
      ...(withTools ? { tools } : {}),
    };
    const params = { model: o.name, contents, ...(Object.keys(config).length > 0 ? { config } : {}) };
    const parts: Part[] = [];
    let stop: string | undefined;
    let usage: TurnResult['usage'] = [undefined, undefined];
    let deltas = 0;
    const take = (c: Awaited<ReturnType<typeof client.models.generateContent>>): void => {
      const candidate = c.candidates?.[0];
      for (const p of candidate?.content?.parts ?? []) {
        parts.push(p);
        if (p.text && !p.thought) deltas += 1;
      }
      if (candidate?.finishReason) stop = candidate.finishReason;
      if (c.usageMetadata) usage = [c.usageMetadata.promptTokenCount, c.usageMetadata.candidatesTokenCount];
    };
    if (!stream) take(await client.models.generateContent(params));
    else for await (const c of await client.models.generateContentStream(params)) take(c);
    return {
      r: {
        text: parts
          .filter((p) => !p.thought)
          .map((p) => p.text ?? '')
          .join(''),
        stop,
        usage,
        toolCalls: parts.flatMap((p) =>
          p.functionCall
            ? [{ id: p.functionCall.id ?? '', name: p.functionCall.name ?? '', args: p.functionCall.args }]
            : [],
        ),
        deltas: stream ? deltas : 0,
      },
      assistant: { role: 'model', parts },
    };
  }

  return {
    protocol: 'gemini',
    maxTokens: undefined,
    foreignFields: [],
    async ask(stream, prompt, opts) {
      return (await turn([{ role: 'user', parts: [{ text: prompt }] }], stream, false, opts)).r;
    },
    async askWithTool(stream, prompt) {
      const history: Content[] = [{ role: 'user', parts: [{ text: prompt }] }];
      const first = await turn(history, stream, true);
      return {
        first: first.r,
        answer: async (stream2) => {
          const results: Part[] = first.r.toolCalls.map((c) => ({
            functionResponse: {
              ...(c.id ? { id: c.id } : {}),
              name: c.name,
              response: { ...WEATHER_RESULT },
            },
          }));
          return (await turn([...history, first.assistant, { role: 'user', parts: results }], stream2, true))
            .r;
        },
      };
    },
    close() {},
  };
}

// ---- Cohere v2 chat ------------------------------------------------------------------------

function cohere(o: MatrixClientOptions): MatrixClient {
  const client = new CohereClientV2({ token: o.token, environment: o.baseUrl, maxRetries: 0 });
  const tools: Cohere.ToolV2[] = [
    {
      type: 'function',
      function: {
        name: WEATHER_TOOL.name,
        description: WEATHER_TOOL.description,
        parameters: { ...WEATHER_TOOL.schema },
      },
    },
  ];
  type Msg = Cohere.ChatMessageV2;

  async function turn(
    messages: Msg[],
    stream: boolean,
    withTools: boolean,
    opts: AskOptions = {},
  ): Promise<{ r: TurnResult; assistant: Msg }> {
    const system: Msg[] = opts.system === undefined ? [] : [{ role: 'system', content: opts.system }];
    const params = {
      model: o.name,
      messages: [...system, ...messages],
      ...(opts.temperature === undefined ? {} : { temperature: opts.temperature }),
      ...(withTools ? { tools } : {}),
    };
    if (!stream) {
      const r = await client.chat(params);
      const text = (r.message.content ?? []).map((c) => (c.type === 'text' ? c.text : '')).join('');
      const calls = r.message.toolCalls ?? [];
      return {
        r: {
          text: text || (r.message.toolPlan ?? ''),
          stop: r.finishReason,
          usage: [r.usage?.tokens?.inputTokens, r.usage?.tokens?.outputTokens],
          toolCalls: calls.map((c) => ({
            id: c.id,
            name: c.function?.name ?? '',
            args: parseArgs(c.function?.arguments),
          })),
          deltas: 0,
        },
        assistant: {
          role: 'assistant',
          ...(r.message.toolPlan ? { toolPlan: r.message.toolPlan } : {}),
          ...(calls.length > 0 ? { toolCalls: calls } : { content: text }),
        },
      };
    }
    const s = await client.chatStream(params);
    let text = '';
    let plan = '';
    let deltas = 0;
    let stop: string | undefined;
    let usage: TurnResult['usage'] = [undefined, undefined];
    const calls = new Map<number, { id: string; name: string; args: string }>();
    for await (const e of s) {
      if (e.type === 'content-delta') {
        text += e.delta?.message?.content?.text ?? '';
        deltas += 1;
      }
      if (e.type === 'tool-plan-delta') plan += e.delta?.message?.toolPlan ?? '';
      if (e.type === 'tool-call-start') {
        const tc = e.delta?.message?.toolCalls;
        calls.set(e.index ?? 0, {
          id: tc?.id ?? '',
          name: tc?.function?.name ?? '',
          args: tc?.function?.arguments ?? '',
        });
      }
      if (e.type === 'tool-call-delta') {
        const call = calls.get(e.index ?? 0);
        if (call === undefined) throw new Error('tool-call-delta before tool-call-start');
        call.args += e.delta?.message?.toolCalls?.function?.arguments ?? '';
      }
      if (e.type === 'message-end') {
        stop = e.delta?.finishReason;
        usage = [e.delta?.usage?.tokens?.inputTokens, e.delta?.usage?.tokens?.outputTokens];
      }
    }
    const list = [...calls.values()];
    return {
      r: {
        text: text || plan,
        stop,
        usage,
        toolCalls: list.map((c) => ({ id: c.id, name: c.name, args: parseArgs(c.args) })),
        deltas,
      },
      assistant: {
        role: 'assistant',
        ...(plan ? { toolPlan: plan } : {}),
        ...(list.length > 0
          ? {
              toolCalls: list.map((c) => ({
                id: c.id,
                type: 'function' as const,
                function: { name: c.name, arguments: c.args },
              })),
            }
          : { content: text }),
      },
    };
  }

  return {
    protocol: 'cohere',
    maxTokens: undefined,
    foreignFields: [],
    async ask(stream, prompt, opts) {
      return (await turn([{ role: 'user', content: prompt }], stream, false, opts)).r;
    },
    async askWithTool(stream, prompt) {
      const history: Msg[] = [{ role: 'user', content: prompt }];
      const first = await turn(history, stream, true);
      return {
        first: first.r,
        answer: async (stream2) => {
          const results: Msg[] = first.r.toolCalls.map((c) => ({
            role: 'tool',
            toolCallId: c.id,
            content: RESULT_TEXT,
          }));
          return (await turn([...history, first.assistant, ...results], stream2, true)).r;
        },
      };
    },
    close() {},
  };
}

// ---- Bedrock Converse --------------------------------------------------------------------

function bedrock(o: MatrixClientOptions): MatrixClient {
  const { client } = bedrockClient({ baseUrl: o.baseUrl, token: o.token });
  const maxTokens = 300;
  const toolConfig = {
    tools: [
      {
        toolSpec: {
          name: WEATHER_TOOL.name,
          description: WEATHER_TOOL.description,
          inputSchema: { json: { ...WEATHER_TOOL.schema } },
        },
      },
    ],
  };

  async function turn(
    messages: BedrockMessage[],
    stream: boolean,
    withTools: boolean,
    opts: AskOptions = {},
  ): Promise<{ r: TurnResult; assistant: BedrockMessage }> {
    const input: ConverseCommandInput = {
      modelId: o.name,
      messages,
      inferenceConfig: {
        maxTokens,
        ...(opts.temperature === undefined ? {} : { temperature: opts.temperature }),
      },
      ...(opts.system === undefined ? {} : { system: [{ text: opts.system }] }),
      ...(withTools ? { toolConfig } : {}),
    };
    if (!stream) {
      const r = await client.send(new ConverseCommand(input));
      const content = r.output?.message?.content ?? [];
      return {
        r: {
          text: content.map((c) => c.text ?? '').join(''),
          stop: r.stopReason,
          usage: [r.usage?.inputTokens, r.usage?.outputTokens],
          toolCalls: content.flatMap((c) =>
            c.toolUse
              ? [{ id: c.toolUse.toolUseId ?? '', name: c.toolUse.name ?? '', args: c.toolUse.input }]
              : [],
          ),
          deltas: 0,
        },
        assistant: { role: 'assistant', content },
      };
    }
    const r = await client.send(new ConverseStreamCommand(input));
    const blocks = new Map<number, { kind: 'text' | 'tool'; id: string; name: string; body: string }>();
    let deltas = 0;
    let stop: string | undefined;
    let usage: TurnResult['usage'] = [undefined, undefined];
    for await (const e of r.stream ?? []) {
      const start = e.contentBlockStart;
      if (start?.start?.toolUse) {
        const t = start.start.toolUse;
        blocks.set(start.contentBlockIndex ?? 0, {
          kind: 'tool',
          id: t.toolUseId ?? '',
          name: t.name ?? '',
          body: '',
        });
      }
      const delta = e.contentBlockDelta;
      if (delta?.delta?.text !== undefined) {
        const index = delta.contentBlockIndex ?? 0;
        const b = blocks.get(index) ?? { kind: 'text' as const, id: '', name: '', body: '' };
        b.body += delta.delta.text;
        blocks.set(index, b);
        deltas += 1;
      }
      if (delta?.delta?.toolUse) {
        const b = blocks.get(delta.contentBlockIndex ?? 0);
        if (b?.kind !== 'tool') throw new Error('toolUse delta without contentBlockStart');
        b.body += delta.delta.toolUse.input ?? '';
      }
      if (e.messageStop) stop = e.messageStop.stopReason;
      if (e.metadata?.usage) usage = [e.metadata.usage.inputTokens, e.metadata.usage.outputTokens];
    }
    const ordered = [...blocks.entries()].sort(([a], [b]) => a - b).map(([, b]) => b);
    const content = ordered.map(
      (b): BedrockBlock =>
        b.kind === 'text'
          ? { text: b.body }
          : {
              toolUse: {
                toolUseId: b.id,
                name: b.name,
                input: (b.body === '' ? {} : parseArgs(b.body)) as Record<string, string>,
              },
            },
    );
    return {
      r: {
        text: ordered
          .filter((b) => b.kind === 'text')
          .map((b) => b.body)
          .join(''),
        stop,
        usage,
        toolCalls: ordered
          .filter((b) => b.kind === 'tool')
          .map((b) => ({ id: b.id, name: b.name, args: b.body === '' ? {} : parseArgs(b.body) })),
        deltas,
      },
      assistant: { role: 'assistant', content },
    };
  }

  return {
    protocol: 'bedrock',
    maxTokens,
    foreignFields: [],
    async ask(stream, prompt, opts) {
      return (await turn([{ role: 'user', content: [{ text: prompt }] }], stream, false, opts)).r;
    },
    async askWithTool(stream, prompt) {
      const history: BedrockMessage[] = [{ role: 'user', content: [{ text: prompt }] }];
      const first = await turn(history, stream, true);
      return {
        first: first.r,
        answer: async (stream2) => {
          const results: BedrockBlock[] = first.r.toolCalls.map((c) => ({
            toolResult: { toolUseId: c.id, content: [{ json: { ...WEATHER_RESULT } }] },
          }));
          return (
            await turn([...history, first.assistant, { role: 'user', content: results }], stream2, true)
          ).r;
        },
      };
    },
    close() {
      client.destroy();
    },
  };
}

const FACTORIES: Record<Protocol, (o: MatrixClientOptions) => MatrixClient> = {
  openai: openaiChat,
  responses: openaiResponses,
  anthropic,
  gemini,
  cohere,
  bedrock,
};

export function matrixClient(protocol: Protocol, o: MatrixClientOptions): MatrixClient {
  return FACTORIES[protocol](o);
}

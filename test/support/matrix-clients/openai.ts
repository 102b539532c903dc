// The OpenAI Chat Completions SDK driven for the translation matrix.

import OpenAI from 'openai';
import {
  type AskOptions,
  type MatrixClient,
  type MatrixClientOptions,
  parseArgs,
  RESULT_TEXT,
  type TurnResult,
  WEATHER_TOOL,
} from './shared.ts';

export function openaiChat(o: MatrixClientOptions): MatrixClient {
  const client = new OpenAI({
    baseURL: `${o.baseUrl}/v1`,
    apiKey: o.token,
    maxRetries: 0,
    ...(o.fetch ? { fetch: o.fetch } : {}),
  });
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
          id: c.id,
          model: c.model,
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

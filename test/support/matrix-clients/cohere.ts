// The Cohere v2 SDK driven for the translation matrix.

import { type Cohere, CohereClientV2 } from 'cohere-ai';
import {
  type AskOptions,
  type MatrixClient,
  type MatrixClientOptions,
  parseArgs,
  RESULT_TEXT,
  type TurnResult,
  WEATHER_TOOL,
} from './shared.ts';

export function cohere(o: MatrixClientOptions): MatrixClient {
  const client = new CohereClientV2({
    token: o.token,
    environment: o.baseUrl,
    maxRetries: 0,
    ...(o.fetch ? { fetch: o.fetch } : {}),
  });
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
          id: r.id,
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

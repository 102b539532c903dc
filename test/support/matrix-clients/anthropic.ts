// The Anthropic SDK driven for the translation matrix.

import Anthropic from '@anthropic-ai/sdk';
import {
  type AskOptions,
  type MatrixClient,
  type MatrixClientOptions,
  RESULT_TEXT,
  type ToolCallSeen,
  type TurnResult,
  WEATHER_TOOL,
} from './shared.ts';

export function anthropic(o: MatrixClientOptions): MatrixClient {
  const client = new Anthropic({
    baseURL: `${o.baseUrl}/${o.name}`,
    apiKey: o.token,
    maxRetries: 0,
    ...(o.fetch ? { fetch: o.fetch } : {}),
  });
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
        id: m.id,
        model: m.model,
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

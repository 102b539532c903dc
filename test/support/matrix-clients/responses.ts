// The OpenAI SDK's Responses API driven for the translation matrix.

import OpenAI from 'openai';
import {
  type AskOptions,
  type MatrixClient,
  type MatrixClientOptions,
  parseArgs,
  RESULT_TEXT,
  type ToolCallSeen,
  type TurnResult,
  WEATHER_TOOL,
} from './shared.ts';

export function openaiResponses(o: MatrixClientOptions): MatrixClient {
  const client = new OpenAI({
    baseURL: `${o.baseUrl}/v1`,
    apiKey: o.token,
    maxRetries: 0,
    ...(o.fetch ? { fetch: o.fetch } : {}),
  });
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
          id: r.id,
          model: r.model,
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

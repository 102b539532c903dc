// The Google GenAI SDK driven for the translation matrix.

import { type Content, GoogleGenAI, type Part } from '@google/genai';
import {
  type AskOptions,
  type MatrixClient,
  type MatrixClientOptions,
  type TurnResult,
  WEATHER_RESULT,
  WEATHER_TOOL,
} from './shared.ts';

export function gemini(o: MatrixClientOptions): MatrixClient {
  const client = new GoogleGenAI({
    apiKey: o.token,
    httpOptions: { baseUrl: o.baseUrl, ...(o.fetch ? { fetch: o.fetch } : {}) },
  });
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
    let id: string | undefined;
    let model: string | undefined;
    const take = (c: Awaited<ReturnType<typeof client.models.generateContent>>): void => {
      id ??= c.responseId;
      model ??= c.modelVersion;
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
        ...(id !== undefined && { id }),
        ...(model !== undefined && { model }),
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

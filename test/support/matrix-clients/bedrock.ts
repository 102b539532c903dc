// The AWS Bedrock Runtime SDK (Converse) driven for the translation matrix.

import {
  type ContentBlock as BedrockBlock,
  type Message as BedrockMessage,
  ConverseCommand,
  type ConverseCommandInput,
  ConverseStreamCommand,
} from '@aws-sdk/client-bedrock-runtime';
import { bedrockClient } from '../sdk-calls.ts';
import {
  type AskOptions,
  type MatrixClient,
  type MatrixClientOptions,
  parseArgs,
  type TurnResult,
  WEATHER_RESULT,
  WEATHER_TOOL,
} from './shared.ts';

export function bedrock(o: MatrixClientOptions): MatrixClient {
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

// Cross-protocol hops among openai / responses / anthropic: every upstream fixture stream and body,
// read by its own codec and written by each ingress codec, is parsed by that ingress's official SDK
// with the upstream's text, tool calls, stop reason and usage intact (P-MTX-2, for these three).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { anthropicCodec } from '../../src/protocols/anthropic/index.ts';
import type { ProtocolCodec } from '../../src/protocols/codec.ts';
import type { ContentBlock, Usage } from '../../src/protocols/ir.ts';
import { openaiCodec } from '../../src/protocols/openai/index.ts';
import { responsesCodec } from '../../src/protocols/responses/index.ts';
import {
  essence,
  fetchReturning,
  fixtures,
  fold,
  readJson,
  readText,
  replay,
  sse,
} from '../support/protocol-harness.ts';

const CODECS: Record<string, ProtocolCodec> = {
  openai: openaiCodec,
  responses: responsesCodec,
  anthropic: anthropicCodec,
};

interface Seen {
  text: string;
  tools: unknown[];
  stop: string;
  input: number;
  output: number;
}

const STOP_NAMES: Record<string, Record<string, string>> = {
  openai: {
    end_turn: 'stop',
    stop_sequence: 'stop',
    max_tokens: 'length',
    tool_use: 'tool_calls',
    content_filter: 'content_filter',
  },
  responses: {
    end_turn: 'completed',
    stop_sequence: 'completed',
    max_tokens: 'incomplete',
    tool_use: 'completed',
    content_filter: 'incomplete',
  },
  anthropic: {
    end_turn: 'end_turn',
    stop_sequence: 'stop_sequence',
    max_tokens: 'max_tokens',
    tool_use: 'tool_use',
    content_filter: 'refusal',
  },
};

async function viaSdk(ingress: string, body: string, stream: boolean): Promise<Seen> {
  const type = stream ? 'text/event-stream' : 'application/json';
  if (ingress === 'anthropic') {
    const client = new Anthropic({
      apiKey: 'k',
      baseURL: 'http://gw.test',
      fetch: fetchReturning(body, type),
    });
    const params = { model: 'x', max_tokens: 10, messages: [] };
    const m = stream
      ? await client.messages.stream(params).finalMessage()
      : await client.messages.create(params);
    return {
      text: m.content.map((b) => (b.type === 'text' ? b.text : '')).join(''),
      tools: m.content.flatMap((b) => (b.type === 'tool_use' ? [[b.name, b.input]] : [])),
      stop: m.stop_reason ?? '',
      input:
        m.usage.input_tokens +
        (m.usage.cache_read_input_tokens ?? 0) +
        (m.usage.cache_creation_input_tokens ?? 0),
      output: m.usage.output_tokens,
    };
  }
  const client = new OpenAI({ apiKey: 'k', baseURL: 'http://gw.test/v1', fetch: fetchReturning(body, type) });
  if (ingress === 'openai') {
    const params = { model: 'x', messages: [] };
    const c = stream
      ? await client.chat.completions.stream(params).finalChatCompletion()
      : await client.chat.completions.create(params);
    const msg = c.choices[0]!.message;
    return {
      text: msg.content ?? '',
      tools: (msg.tool_calls ?? []).map((t) =>
        t.type === 'function' ? [t.function.name, JSON.parse(t.function.arguments)] : [],
      ),
      stop: c.choices[0]!.finish_reason,
      input: c.usage?.prompt_tokens ?? 0,
      output: c.usage?.completion_tokens ?? 0,
    };
  }
  const r = stream
    ? await client.responses.stream({ model: 'x', input: 'hi' }).finalResponse()
    : await client.responses.create({ model: 'x', input: 'hi' });
  return {
    text: r.output_text,
    tools: r.output.flatMap((o) => (o.type === 'function_call' ? [[o.name, JSON.parse(o.arguments)]] : [])),
    stop: r.status ?? '',
    input: r.usage?.input_tokens ?? 0,
    output: r.usage?.output_tokens ?? 0,
  };
}

function expected(
  ingress: string,
  content: readonly ContentBlock[],
  stop: string,
  usage: Usage | undefined,
): Seen {
  const e = essence(content);
  return {
    text: e.text,
    tools: e.tools,
    stop: STOP_NAMES[ingress]![stop]!,
    input: usage?.inputTokens ?? 0,
    output: usage?.outputTokens ?? 0,
  };
}

describe('openai / responses / anthropic matrix', () => {
  for (const egress of Object.keys(CODECS)) {
    for (const ingress of Object.keys(CODECS)) {
      it(`${egress} upstream → ${ingress} client, stream and non-stream`, async () => {
        const up = CODECS[egress]!;
        const down = CODECS[ingress]!;
        for (const name of fixtures(egress, 'stream-', '.sse')) {
          const events = replay(up.newStreamReader(), [sse(readText(egress, name))]);
          if (events.at(-1)?.type !== 'message_stop') continue; // error fixtures: covered per protocol
          const f = fold(events);
          const w = down.newStreamWriter();
          const wire = events.map((e) => w.write(e)).join('') + (w.end() as string);
          const seen = await viaSdk(ingress, wire, true);
          assert.deepEqual(
            seen,
            expected(ingress, f.content, f.stopReason ?? 'end_turn', f.usage),
            `${name}`,
          );
        }
        for (const name of fixtures(egress, 'response-', '.json')) {
          const res = up.readResponse(readJson(egress, name));
          const seen = await viaSdk(ingress, JSON.stringify(down.writeResponse(res)), false);
          assert.deepEqual(seen, expected(ingress, res.content, res.stopReason, res.usage), `${name}`);
        }
      });
    }
  }
});

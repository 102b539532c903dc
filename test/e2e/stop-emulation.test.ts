// Issue 20, item 1: a stop sequence sent by an OpenAI Chat, Anthropic, Gemini, Cohere or Bedrock
// client to a Responses lane (whose protocol has no stop field) is enforced by the gateway: the
// text is cut before it, the client gets its native finish reason, and a streamed upstream is
// closed as soon as the sequence appears.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import {
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
} from '@aws-sdk/client-bedrock-runtime';
import { GoogleGenAI } from '@google/genai';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { CohereClientV2 } from 'cohere-ai';
import OpenAI from 'openai';
import { CLIENT_TOKEN, LANES } from '../support/six-providers.ts';
import { useSixProvidersGateway } from '../support/six-providers-gateway.ts';

const fx = useSixProvidersGateway();
const MODEL = LANES.responses.model;
const STOP = 'HALT';
/** 15 characters: the mock sends 16 per delta, so the sequence spans two deltas. */
const KEPT = 'Alpha beta gamm';
/** Long enough that a streamed answer is still being sent when the sequence appears. */
const ANSWER = `${KEPT}${STOP} and everything after it, which must never reach the client, goes on for a while longer.`;
const prompt = 'Say it.';

interface Got {
  readonly text: string;
  /** The finish reason in the client's own vocabulary. */
  readonly reason: string | null | undefined;
  /** Anthropic only: the matched sequence. */
  readonly sequence?: string | null;
}

type Call = (stream: boolean) => Promise<Got>;

const CLIENTS: Record<string, { call: Call; reason: string }> = {
  openai: {
    reason: 'stop',
    call: async (stream) => {
      const client = new OpenAI({ baseURL: `${fx.gw.url}/v1`, apiKey: CLIENT_TOKEN, maxRetries: 0 });
      const body = { model: MODEL, messages: [{ role: 'user' as const, content: prompt }], stop: [STOP] };
      if (!stream) {
        const r = await client.chat.completions.create(body);
        return { text: r.choices[0]!.message.content ?? '', reason: r.choices[0]!.finish_reason };
      }
      let text = '';
      let reason: string | null = null;
      for await (const chunk of await client.chat.completions.create({ ...body, stream: true })) {
        text += chunk.choices[0]?.delta.content ?? '';
        reason = chunk.choices[0]?.finish_reason ?? reason;
      }
      return { text, reason };
    },
  },
  anthropic: {
    reason: 'stop_sequence',
    call: async (stream) => {
      const client = new Anthropic({ baseURL: fx.gw.url, apiKey: CLIENT_TOKEN, maxRetries: 0 });
      const body = {
        model: MODEL,
        max_tokens: 200,
        stop_sequences: [STOP],
        messages: [{ role: 'user' as const, content: prompt }],
      };
      const r = stream
        ? await client.messages.stream(body).finalMessage()
        : await client.messages.create(body);
      const text = r.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
      return { text, reason: r.stop_reason, sequence: r.stop_sequence };
    },
  },
  gemini: {
    reason: 'STOP',
    call: async (stream) => {
      const ai = new GoogleGenAI({ apiKey: CLIENT_TOKEN, httpOptions: { baseUrl: fx.gw.url } });
      const params = { model: MODEL, contents: prompt, config: { stopSequences: [STOP] } };
      if (!stream) {
        const r = await ai.models.generateContent(params);
        return { text: r.text ?? '', reason: r.candidates?.[0]?.finishReason };
      }
      let text = '';
      let reason: string | undefined;
      for await (const chunk of await ai.models.generateContentStream(params)) {
        text += chunk.text ?? '';
        reason = chunk.candidates?.[0]?.finishReason ?? reason;
      }
      return { text, reason };
    },
  },
  cohere: {
    reason: 'STOP_SEQUENCE',
    call: async (stream) => {
      const client = new CohereClientV2({ token: CLIENT_TOKEN, environment: fx.gw.url, maxRetries: 0 });
      const body = {
        model: MODEL,
        messages: [{ role: 'user' as const, content: prompt }],
        stopSequences: [STOP],
      };
      if (!stream) {
        const r = await client.chat(body);
        const text = (r.message.content ?? []).map((c) => ('text' in c ? c.text : '')).join('');
        return { text, reason: r.finishReason };
      }
      let text = '';
      let reason: string | undefined;
      for await (const event of await client.chatStream(body)) {
        if (event.type === 'content-delta') text += event.delta?.message?.content?.text ?? '';
        if (event.type === 'message-end') reason = event.delta?.finishReason;
      }
      return { text, reason };
    },
  },
  bedrock: {
    reason: 'stop_sequence',
    call: async (stream) => {
      const client = new BedrockRuntimeClient({
        endpoint: fx.gw.url,
        region: 'us-east-1',
        token: { token: CLIENT_TOKEN },
        authSchemePreference: ['httpBearerAuth'],
        maxAttempts: 1,
        requestHandler: new NodeHttpHandler(),
      });
      const input = {
        modelId: MODEL,
        messages: [{ role: 'user' as const, content: [{ text: prompt }] }],
        inferenceConfig: { stopSequences: [STOP] },
      };
      if (!stream) {
        const r = await client.send(new ConverseCommand(input));
        const text = (r.output?.message?.content ?? []).map((c) => c.text ?? '').join('');
        return { text, reason: r.stopReason };
      }
      const r = await client.send(new ConverseStreamCommand(input));
      let text = '';
      let reason: string | undefined;
      for await (const event of r.stream ?? []) {
        text += event.contentBlockDelta?.delta?.text ?? '';
        reason = event.messageStop?.stopReason ?? reason;
      }
      return { text, reason };
    },
  },
};

async function settled(check: () => boolean): Promise<boolean> {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  return check();
}

describe('stop sequences toward a Responses lane', () => {
  for (const [name, client] of Object.entries(CLIENTS)) {
    for (const stream of [false, true]) {
      it(`${name} client, ${stream ? 'streaming' : 'whole answer'}: cut before the sequence, native finish reason`, async () => {
        fx.mock.reset();
        fx.mock.enqueue({ text: ANSWER, chunkDelayMs: stream ? 40 : 0 });
        const got = await client.call(stream);
        assert.equal(got.text, KEPT);
        assert.equal(got.reason, client.reason);
        if (got.sequence !== undefined) assert.equal(got.sequence, STOP);
        const sent = fx.mock.last()!;
        assert.equal(sent.protocol, 'responses');
        // Responses has no stop field: nothing of it went upstream.
        assert.ok(!JSON.stringify(sent.json()).includes(STOP));
        if (stream) {
          // The gateway closed the upstream once the sequence appeared.
          assert.ok(await settled(() => sent.cancelled), 'the mock saw the cancel');
        }
      });
    }
  }
});

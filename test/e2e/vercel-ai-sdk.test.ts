// The Vercel AI SDK's providers as third-party peers (issue 10, item 12): each one, pointed at the
// gateway, asks for a model that a mock of ANOTHER protocol serves, so every answer it parses was
// written by Busbar's translation — generateText, streamText, a tool round trip and structured
// output, checked the way a user would (text, usage, finish reason, the tool's arguments).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createAmazonBedrock } from '@ai-sdk/amazon-bedrock';
import { createAnthropic } from '@ai-sdk/anthropic';
import { createCohere } from '@ai-sdk/cohere';
import { createGoogleGenerativeAI } from '@ai-sdk/google';
import { createOpenAI } from '@ai-sdk/openai';
import { generateText, jsonSchema, type LanguageModel, Output, stepCountIs, streamText, tool } from 'ai';
import type { Protocol } from '../../src/protocols/names.ts';
import { CLIENT_TOKEN, LANES } from '../support/six-providers.ts';
import { useSixProvidersGateway } from '../support/six-providers-gateway.ts';

const fx = useSixProvidersGateway();

/** Each client, with the protocol of the mock that serves the model it asks for (never its own). */
const CLIENTS: { client: string; serves: Protocol; model: (name: string) => LanguageModel }[] = [
  {
    client: '@ai-sdk/openai chat',
    serves: 'anthropic',
    model: (n) => createOpenAI({ baseURL: `${fx.gw.url}/v1`, apiKey: CLIENT_TOKEN }).chat(n),
  },
  {
    client: '@ai-sdk/openai responses',
    serves: 'gemini',
    model: (n) => createOpenAI({ baseURL: `${fx.gw.url}/v1`, apiKey: CLIENT_TOKEN }).responses(n),
  },
  {
    client: '@ai-sdk/anthropic',
    serves: 'openai',
    model: (n) => createAnthropic({ baseURL: `${fx.gw.url}/v1`, apiKey: CLIENT_TOKEN })(n),
  },
  {
    client: '@ai-sdk/google',
    serves: 'cohere',
    model: (n) => createGoogleGenerativeAI({ baseURL: `${fx.gw.url}/v1beta`, apiKey: CLIENT_TOKEN })(n),
  },
  {
    client: '@ai-sdk/cohere',
    serves: 'bedrock',
    model: (n) => createCohere({ baseURL: `${fx.gw.url}/v2`, apiKey: CLIENT_TOKEN })(n),
  },
  {
    client: '@ai-sdk/amazon-bedrock',
    serves: 'responses',
    model: (n) => createAmazonBedrock({ baseURL: fx.gw.url, region: 'us-east-1', apiKey: CLIENT_TOKEN })(n),
  },
];

const weather = tool({
  description: 'The weather in a city',
  inputSchema: jsonSchema<{ city: string }>({
    type: 'object',
    properties: { city: { type: 'string' } },
    required: ['city'],
  }),
  execute: async ({ city }) => ({ city, forecast: 'sunny' }),
});

for (const c of CLIENTS) {
  describe(`${c.client} → ${c.serves} mock`, () => {
    const name = LANES[c.serves].model;

    test('generateText: the text, the usage and the finish reason', async () => {
      fx.mock.enqueue({ usage: { input: 21, output: 9 } });
      const r = await generateText({ model: c.model(name), prompt: 'Say hello.', maxRetries: 0 });
      assert.equal(r.text, `Hello from ${c.serves} mock`);
      assert.equal(r.finishReason, 'stop');
      assert.equal(r.usage.inputTokens, 21);
      assert.equal(r.usage.outputTokens, 9);
    });

    test('streamText: the whole text, then the usage', async () => {
      fx.mock.enqueue({ usage: { input: 13, output: 5 } });
      const r = streamText({ model: c.model(name), prompt: 'Say hello.', maxRetries: 0 });
      let text = '';
      for await (const part of r.textStream) text += part;
      assert.equal(text, `Hello from ${c.serves} mock`);
      assert.equal((await r.usage).outputTokens, 5);
      assert.equal(await r.finishReason, 'stop');
    });

    test('a tool round trip: the call, the result sent back, the final text', async () => {
      fx.mock.enqueue({ toolCall: { name: 'weather', arguments: { city: 'Paris' } } });
      const r = await generateText({
        model: c.model(name),
        prompt: 'What is the weather in Paris?',
        tools: { weather },
        stopWhen: stepCountIs(2),
        maxRetries: 0,
      });
      assert.equal(r.steps.length, 2);
      const call = r.steps[0]!.toolCalls[0]!;
      assert.equal(call.toolName, 'weather');
      assert.deepEqual(call.input, { city: 'Paris' });
      assert.deepEqual(r.steps[0]!.toolResults[0]!.output, { city: 'Paris', forecast: 'sunny' });
      assert.equal(r.text, `Hello from ${c.serves} mock`);
      // The second request carried the tool's result upstream, in the mock's own protocol.
      const sent = JSON.stringify(fx.mock.last()!.json());
      assert.ok(sent.includes('sunny'), sent);
    });

    test('structured output: an object matching the schema', async () => {
      fx.mock.enqueue({ text: '{"city":"Paris","degrees":21}' });
      const r = await generateText({
        model: c.model(name),
        prompt: 'The weather in Paris as JSON.',
        output: Output.object({
          schema: jsonSchema<{ city: string; degrees: number }>({
            type: 'object',
            properties: { city: { type: 'string' }, degrees: { type: 'number' } },
            required: ['city', 'degrees'],
            additionalProperties: false,
          }),
        }),
        maxRetries: 0,
      });
      assert.deepEqual(r.output, { city: 'Paris', degrees: 21 });
    });
  });
}

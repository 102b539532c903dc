// LangChain JS chat models as third-party peers (issue 10, item 12): each asks for a model that a
// mock of another protocol serves — invoke, stream, a tool call bound with bindTools, and
// withStructuredOutput.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ChatAnthropic } from '@langchain/anthropic';
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { ChatGoogleGenerativeAI } from '@langchain/google-genai';
import { ChatOpenAI } from '@langchain/openai';
import type { Protocol } from '../../src/protocols/names.ts';
import { CLIENT_TOKEN, LANES } from '../support/six-providers.ts';
import { useSixProvidersGateway } from '../support/six-providers-gateway.ts';

const fx = useSixProvidersGateway();

const CLIENTS: { client: string; serves: Protocol; chat: (name: string) => BaseChatModel }[] = [
  {
    client: 'ChatOpenAI',
    serves: 'bedrock',
    chat: (model) =>
      new ChatOpenAI({
        model,
        apiKey: CLIENT_TOKEN,
        configuration: { baseURL: `${fx.gw.url}/v1` },
        maxRetries: 0,
      }),
  },
  {
    client: 'ChatAnthropic',
    serves: 'gemini',
    chat: (model) =>
      new ChatAnthropic({ model, apiKey: CLIENT_TOKEN, anthropicApiUrl: fx.gw.url, maxRetries: 0 }),
  },
  {
    client: 'ChatGoogleGenerativeAI',
    serves: 'openai',
    chat: (model) =>
      new ChatGoogleGenerativeAI({ model, apiKey: CLIENT_TOKEN, baseUrl: fx.gw.url, maxRetries: 0 }),
  },
];

const WEATHER = {
  name: 'weather',
  description: 'The weather in a city',
  schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

for (const c of CLIENTS) {
  describe(`${c.client} → ${c.serves} mock`, () => {
    const name = LANES[c.serves].model;

    test('invoke: the text and the usage', async () => {
      fx.mock.enqueue({ usage: { input: 21, output: 9 } });
      const msg = await c.chat(name).invoke('Say hello.');
      assert.equal(msg.content, `Hello from ${c.serves} mock`);
      assert.equal(msg.usage_metadata?.input_tokens, 21);
      assert.equal(msg.usage_metadata?.output_tokens, 9);
    });

    test('stream: the whole text', async () => {
      let text = '';
      for await (const chunk of await c.chat(name).stream('Say hello.')) {
        text += typeof chunk.content === 'string' ? chunk.content : '';
      }
      assert.equal(text, `Hello from ${c.serves} mock`);
    });

    test('bindTools: the tool call with its arguments', async () => {
      fx.mock.enqueue({ toolCall: { name: 'weather', arguments: { city: 'Paris' } } });
      const model = c.chat(name).bindTools!([WEATHER]);
      const msg = await model.invoke('What is the weather in Paris?');
      assert.equal(msg.tool_calls?.[0]?.name, 'weather');
      assert.deepEqual(msg.tool_calls?.[0]?.args, { city: 'Paris' });
    });

    test('withStructuredOutput: an object matching the schema', async () => {
      // Some clients ask for a tool call, others for JSON text: the mock answers whichever is asked.
      fx.mock.enqueue({
        toolCall: { name: 'extract', arguments: { city: 'Paris', degrees: 21 } },
        text: '{"city":"Paris","degrees":21}',
      });
      const model = c.chat(name).withStructuredOutput(
        {
          type: 'object',
          properties: { city: { type: 'string' }, degrees: { type: 'number' } },
          required: ['city', 'degrees'],
        },
        { name: 'extract' },
      );
      const out = (await model.invoke('The weather in Paris.')) as { city: string; degrees: number };
      assert.deepEqual(out, { city: 'Paris', degrees: 21 });
    });
  });
}

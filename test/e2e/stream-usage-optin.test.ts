// An OpenAI Chat stream reports usage only when the client sets `stream_options.include_usage`,
// which the OpenAI SDK does not by default: a same-protocol stream is opted in upstream so its
// tokens are counted (spend, TPM, metrics), and the usage chunk the client did not ask for is taken
// out of its stream; a client that asked gets it as before.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { type Gateway, startGateway } from '../support/gateway-process.ts';
import { type MockUpstream, startMockUpstream } from '../support/mock-upstream.ts';
import {
  CLIENT_TOKEN,
  LANES,
  sixProvidersCatalog,
  sixProvidersConfig,
  sixProvidersEnv,
} from '../support/six-providers.ts';

const { model } = LANES.openai;
let mock: MockUpstream;
let gw: Gateway;
let client: OpenAI;

before(async () => {
  mock = await startMockUpstream({ usage: { input: 1234, output: 567 } });
  gw = await startGateway({
    providersYaml: sixProvidersCatalog(mock.url),
    configYaml: sixProvidersConfig(),
    env: sixProvidersEnv(),
  });
  client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: CLIENT_TOKEN });
});
after(async () => {
  await gw?.stop();
  await mock?.close();
});

async function tokens(): Promise<[number, number]> {
  const stats = (await (
    await fetch(`${gw.url}/stats`, { headers: { authorization: `Bearer ${CLIENT_TOKEN}` } })
  ).json()) as {
    lanes: { model: string; input_tokens: number; output_tokens: number }[];
  };
  const lane = stats.lanes.find((l) => l.model === model)!;
  return [lane.input_tokens, lane.output_tokens];
}

test('a stream without include_usage: counted, and the client sees no usage chunk', async () => {
  const [inBefore, outBefore] = await tokens();
  const stream = await client.chat.completions.create({
    model,
    stream: true,
    messages: [{ role: 'user', content: 'hi' }],
  });
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  // What naive client code indexes: every chunk has a choice.
  assert.ok(chunks.length > 1);
  for (const c of chunks) assert.ok(c.choices.length > 0, JSON.stringify(c));
  assert.equal(chunks.map((c) => c.choices[0]!.delta.content ?? '').join(''), 'Hello from openai mock');
  // The upstream was asked for usage, and it was counted.
  const sent = mock.last()!.json() as { stream_options?: { include_usage?: boolean }; model: string };
  assert.deepEqual(sent.stream_options, { include_usage: true });
  assert.equal(sent.model, model);
  assert.deepEqual(await tokens(), [inBefore + 1234, outBefore + 567]);
});

test('a stream with include_usage: bytes as the upstream sent them, the usage chunk included', async () => {
  const [inBefore, outBefore] = await tokens();
  const stream = await client.chat.completions.create({
    model,
    stream: true,
    stream_options: { include_usage: true },
    messages: [{ role: 'user', content: 'hi' }],
  });
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  const last = chunks.at(-1)!;
  assert.deepEqual(last.choices, []);
  assert.equal(last.usage?.prompt_tokens, 1234);
  assert.deepEqual(await tokens(), [inBefore + 1234, outBefore + 567]);
});

test('include_usage: false is turned on upstream and the other stream options are kept', async () => {
  const raw = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${CLIENT_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      model,
      stream: true,
      stream_options: { include_usage: false, include_obfuscation: false },
      messages: [{ role: 'user', content: 'hi' }],
    }),
  });
  const text = await raw.text();
  assert.equal(raw.status, 200);
  assert.ok(!text.includes('"choices":[]'), text);
  assert.match(text, /data: \[DONE\]\n\n$/);
  const sent = mock.last()!.json() as { stream_options: Record<string, boolean> };
  assert.deepEqual(sent.stream_options, { include_usage: true, include_obfuscation: false });
});

test('a chunk without choices that is not the usage chunk (Azure prompt_filter_results) reaches the client', async () => {
  mock.enqueue({
    status: 200,
    headers: { 'content-type': 'text/event-stream' },
    body:
      'data: {"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0}]}\n\n' +
      `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"${model}","choices":[{"index":0,"delta":{"content":"hi"}}],"usage":null}\n\n` +
      `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"${model}","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}}\n\n` +
      'data: [DONE]\n\n',
  });
  const raw = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${CLIENT_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, stream: true, messages: [{ role: 'user', content: 'hi' }] }),
  });
  const text = await raw.text();
  assert.match(text, /prompt_filter_results/);
  assert.ok(!text.includes('"usage":{'), text);
  assert.match(text, /data: \[DONE\]\n\n$/);
});

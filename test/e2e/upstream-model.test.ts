// Issue 14, item 3: `upstream_model` — a model's config name differs from the id sent upstream, so
// the same upstream model can sit behind two providers in one pool, and awkward names need no tricks.
// The name stays the lane's identity (listings, /stats, the route-target header); only what goes
// upstream changes: body `model`, path-model URLs (percent-encoded) and health-probe requests.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import OpenAI from 'openai';
import { type Gateway, startGateway } from '../support/gateway-process.ts';
import { type MockUpstream, startMockUpstream } from '../support/mock-upstream.ts';

const TOKEN = 'upstream-model-token';
/** A Bedrock inference-profile ARN: colons and a slash, all of it in the URL path. */
const PROFILE_ARN =
  'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-5-20250929-v1:0';
let primary: MockUpstream;
let backup: MockUpstream;
let converse: MockUpstream;
let probed: MockUpstream;
let embeds: MockUpstream;
let gw: Gateway;

before(async () => {
  [primary, backup, converse, probed, embeds] = await Promise.all([
    startMockUpstream(),
    startMockUpstream(),
    startMockUpstream(),
    startMockUpstream(),
    startMockUpstream(),
  ]);
  gw = await startGateway({
    providersYaml: [
      `openai-primary:\n  protocol: openai\n  base_url: ${primary.url}\n`,
      `anthropic-backup:\n  protocol: anthropic\n  base_url: ${backup.url}\n`,
      `gemini-up:\n  protocol: gemini\n  base_url: ${backup.url}\n`,
      `bedrock-up:\n  protocol: bedrock\n  base_url: ${converse.url}\n`,
      `probed-up:\n  protocol: anthropic\n  base_url: ${probed.url}\n`,
      `gemini-embed:\n  protocol: gemini\n  base_url: ${embeds.url}\n`,
    ].join(''),
    configYaml: [
      'listen: 127.0.0.1:0',
      `auth:\n  mode: token\n  client_tokens: [${TOKEN}]`,
      'providers:',
      '  openai-primary: {api_key_env: UM_KEY}',
      '  anthropic-backup: {api_key_env: UM_KEY}',
      '  gemini-up: {api_key_env: UM_KEY}',
      '  bedrock-up: {api_key_env: UM_AWS_KEY}',
      '  probed-up:',
      '    api_key_env: UM_KEY',
      '    health: {mode: active, interval_secs: 1, timeout_secs: 1}',
      '  gemini-embed: {api_key_env: UM_KEY}',
      'models:',
      "  'sonnet@primary': {provider: openai-primary, max_concurrent: 4, upstream_model: claude-sonnet-4-5}",
      "  'sonnet@backup': {provider: anthropic-backup, max_concurrent: 4, upstream_model: claude-sonnet-4-5}",
      "  'team/gemini:fast': {provider: gemini-up, max_concurrent: 4, upstream_model: gemini-2.5-flash}",
      `  'sonnet@bedrock': {provider: bedrock-up, max_concurrent: 4, upstream_model: '${PROFILE_ARN}'}`,
      "  'probed/haiku': {provider: probed-up, max_concurrent: 4, upstream_model: claude-haiku-4-5}",
      "  'embedder@gemini': {provider: gemini-embed, max_concurrent: 4, mode: embedding, upstream_model: text-embedding-004}",
      'pools:',
      '  sonnet:',
      '    members:',
      "      - {target: 'sonnet@primary', weight: 100}",
      "      - {target: 'sonnet@backup', weight: 1}",
      '  sonnet-cheapest:',
      '    route: cheapest',
      '    members:',
      "      - {target: 'sonnet@primary', cost_per_mtok: 5}",
      "      - {target: 'sonnet@backup', cost_per_mtok: 1}",
    ].join('\n'),
    env: { UM_KEY: 'sk-upstream', UM_AWS_KEY: 'AKIDEXAMPLE:SECRETEXAMPLE' },
  });
});
after(async () => {
  await gw?.stop();
  await Promise.all([primary, backup, converse, probed, embeds].map((m) => m?.close()));
});

const client = () => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: TOKEN, maxRetries: 0 });
const hi = [{ role: 'user' as const, content: 'hi' }];
const POOLS = ['sonnet', 'sonnet-cheapest'];
const MODELS = [
  'sonnet@primary',
  'sonnet@backup',
  'team/gemini:fast',
  'sonnet@bedrock',
  'probed/haiku',
  'embedder@gemini',
];
/** What a caller may request, as the listings give it: pools, then models, in config order. */
const CONFIG_NAMES = [...POOLS, ...MODELS];

describe('upstream_model', () => {
  it('a pool with the same upstream model on two providers fails over from one to the other', async () => {
    primary.enqueue({ status: 503 });
    const r = await client().chat.completions.create({ model: 'sonnet', messages: hi });
    assert.equal(r.choices[0]!.message.content, 'Hello from anthropic mock');
    // Both providers were asked for the upstream id, never the config name: the first on a
    // forwarded hop (the client's body, its model spliced), the second on a translated one.
    assert.equal(primary.requests.length, 1);
    assert.equal(primary.last()!.model, 'claude-sonnet-4-5');
    assert.equal(backup.requests.length, 1);
    assert.equal(backup.last()!.protocol, 'anthropic');
    assert.equal(backup.last()!.model, 'claude-sonnet-4-5');
    // The answer names the model that answered.
    assert.equal(r.model, 'claude-sonnet-4-5');
  });

  it('a streamed answer on a translated hop asks for the upstream id too', async () => {
    primary.enqueue({ status: 503 });
    const stream = await client().chat.completions.create({ model: 'sonnet', messages: hi, stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    assert.equal(text, 'Hello from anthropic mock');
    assert.equal(primary.last()!.model, 'claude-sonnet-4-5');
    assert.equal(backup.last()!.model, 'claude-sonnet-4-5');
    assert.equal(backup.last()!.stream, true);
  });

  it('the route-target header names the config name of the lane that served', async () => {
    const { data, response } = await client()
      .chat.completions.create({ model: 'sonnet-cheapest', messages: hi })
      .withResponse();
    assert.equal(data.choices[0]!.message.content, 'Hello from anthropic mock');
    assert.equal(response.headers.get('x-busbar-route-policy'), 'cheapest');
    assert.equal(response.headers.get('x-busbar-route-target'), 'sonnet@backup');
    assert.equal(backup.last()!.model, 'claude-sonnet-4-5');
  });

  it('a config name with a slash and a colon reaches a path-model upstream as its upstream id', async () => {
    const r = await client().chat.completions.create({ model: 'team/gemini:fast', messages: hi });
    assert.equal(r.choices[0]!.message.content, 'Hello from gemini mock');
    assert.equal(backup.last()!.path, '/v1beta/models/gemini-2.5-flash:generateContent');
  });

  it('an upstream id with colons and a slash is percent-encoded into a path-model URL', async () => {
    const r = await client().chat.completions.create({ model: 'sonnet@bedrock', messages: hi });
    assert.equal(r.choices[0]!.message.content, 'Hello from bedrock mock');
    const got = converse.last()!;
    assert.equal(got.path, `/model/${encodeURIComponent(PROFILE_ARN)}/converse`);
    assert.equal(got.model, PROFILE_ARN);
    // Bedrock answers name no model: the id the lane asked for is what answered.
    assert.equal(r.model, PROFILE_ARN);
  });

  it('an embeddings request asks for the upstream id, in the URL and in each batch item', async () => {
    const check = () => {
      const got = embeds.last()!;
      assert.equal(got.path, '/v1beta/models/text-embedding-004:batchEmbedContents');
      const items = (got.json() as { requests: { model: string }[] }).requests;
      assert.deepEqual(
        items.map((i) => i.model),
        ['models/text-embedding-004', 'models/text-embedding-004'],
      );
    };
    // Translated: an OpenAI body becomes a Gemini batch.
    const r = await client().embeddings.create({ model: 'embedder@gemini', input: ['a', 'b'] });
    assert.equal(r.data.length, 2);
    check();
    // Forwarded: the Gemini SDK's batch items name the config name; the gateway renames them.
    const ai = new GoogleGenAI({ apiKey: TOKEN, httpOptions: { baseUrl: gw.url } });
    const g = await ai.models.embedContent({ model: 'embedder@gemini', contents: ['a', 'b'] });
    assert.equal(g.embeddings?.length, 2);
    check();
    assert.equal(embeds.requests.length, 2);
  });

  it('health probes ask for the upstream id', async () => {
    for (let i = 0; i < 60 && probed.requests.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    const probe = probed.requests[0];
    assert.ok(probe !== undefined, 'no probe within 6 s');
    assert.equal(probe.protocol, 'anthropic');
    assert.equal(probe.model, 'claude-haiku-4-5');
  });

  it('the model listings of every SDK show the config names, not the upstream ids', async () => {
    const openaiIds = (await client().models.list()).data.map((m) => m.id);
    assert.deepEqual(openaiIds, CONFIG_NAMES);
    const anthropic = new Anthropic({ baseURL: gw.url, apiKey: TOKEN, maxRetries: 0 });
    assert.deepEqual(
      (await anthropic.models.list()).data.map((m) => m.id),
      CONFIG_NAMES,
    );
    const ai = new GoogleGenAI({ apiKey: TOKEN, httpOptions: { baseUrl: gw.url } });
    const geminiNames: string[] = [];
    for await (const m of await ai.models.list()) geminiNames.push(m.name ?? '');
    assert.deepEqual(
      geminiNames,
      CONFIG_NAMES.map((n) => `models/${n}`),
    );
  });

  it('/stats names lanes and pool members by config name', async () => {
    const r = await fetch(`${gw.url}/stats`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const stats = (await r.json()) as { pools: Record<string, string[]>; lanes: { model: string }[] };
    assert.deepEqual(
      stats.lanes.map((l) => l.model),
      MODELS,
    );
    assert.deepEqual(stats.pools.sonnet, ['sonnet@primary', 'sonnet@backup']);
  });
});

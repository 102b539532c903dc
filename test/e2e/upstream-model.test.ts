// Issue 14, item 3: `upstream_model` — a model's config name differs from the id sent upstream, so
// the same upstream model can sit behind two providers in one pool, and awkward names need no tricks.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { type Gateway, startGateway } from '../support/gateway-process.ts';
import { type MockUpstream, startMockUpstream } from '../support/mock-upstream.ts';

const TOKEN = 'upstream-model-token';
let primary: MockUpstream;
let backup: MockUpstream;
let gw: Gateway;

before(async () => {
  primary = await startMockUpstream();
  backup = await startMockUpstream();
  gw = await startGateway({
    providersYaml: [
      `openai-primary:\n  protocol: openai\n  base_url: ${primary.url}\n`,
      `anthropic-backup:\n  protocol: anthropic\n  base_url: ${backup.url}\n`,
      `gemini-up:\n  protocol: gemini\n  base_url: ${backup.url}\n`,
    ].join(''),
    configYaml: [
      'listen: 127.0.0.1:0',
      `auth:\n  mode: token\n  client_tokens: [${TOKEN}]`,
      'providers:',
      '  openai-primary: {api_key_env: UM_KEY}',
      '  anthropic-backup: {api_key_env: UM_KEY}',
      '  gemini-up: {api_key_env: UM_KEY}',
      'models:',
      "  'sonnet@primary': {provider: openai-primary, max_concurrent: 4, upstream_model: claude-sonnet-4-5}",
      "  'sonnet@backup': {provider: anthropic-backup, max_concurrent: 4, upstream_model: claude-sonnet-4-5}",
      "  'team/gemini:fast': {provider: gemini-up, max_concurrent: 4, upstream_model: gemini-2.5-flash}",
      'pools:',
      '  sonnet:',
      '    members:',
      "      - {target: 'sonnet@primary', weight: 100}",
      "      - {target: 'sonnet@backup', weight: 1}",
    ].join('\n'),
    env: { UM_KEY: 'sk-upstream' },
  });
});
after(async () => {
  await gw?.stop();
  await primary?.close();
  await backup?.close();
});

const client = () => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: TOKEN, maxRetries: 0 });

describe('upstream_model', () => {
  it('a pool with the same upstream model on two providers fails over from one to the other', async () => {
    primary.enqueue({ status: 503 });
    const r = await client().chat.completions.create({
      model: 'sonnet',
      messages: [{ role: 'user', content: 'hi' }],
    });
    assert.equal(r.choices[0]!.message.content, 'Hello from anthropic mock');
    // Both providers were asked for the upstream id, never the config name.
    assert.equal(primary.last()!.model, 'claude-sonnet-4-5');
    assert.equal(backup.last()!.protocol, 'anthropic');
    assert.equal(backup.last()!.model, 'claude-sonnet-4-5');
    // The answer names the model that answered.
    assert.equal(r.model, 'claude-sonnet-4-5');
  });

  it('a config name with a slash and a colon reaches a path-model upstream as its upstream id', async () => {
    const r = await client().chat.completions.create({
      model: 'team/gemini:fast',
      messages: [{ role: 'user', content: 'hi' }],
    });
    assert.equal(r.choices[0]!.message.content, 'Hello from gemini mock');
    assert.equal(backup.last()!.path, '/v1beta/models/gemini-2.5-flash:generateContent');
  });

  it('GET /v1/models lists the config names, not the upstream ids', async () => {
    const ids = (await client().models.list()).data.map((m) => m.id);
    assert.deepEqual(ids, ['sonnet', 'sonnet@primary', 'sonnet@backup', 'team/gemini:fast']);
  });
});

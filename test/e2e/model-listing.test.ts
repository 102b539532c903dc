// GET /v1/models and /v1beta/models: what chat front-ends call to discover the names they may use,
// read through the official SDKs' own list calls.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import OpenAI from 'openai';
import { assertNativeError, badCredentialKind } from '../support/native-errors.ts';
import { CLIENT_TOKEN, LANE_LIST } from '../support/six-providers.ts';
import { useSixProvidersGateway } from '../support/six-providers-gateway.ts';

const fx = useSixProvidersGateway();
const ALL = [...LANE_LIST.map((l) => l.pool), ...LANE_LIST.map((l) => l.model)];

describe('model listing', () => {
  test('OpenAI and Anthropic SDKs list every pool and model from GET /v1/models', async () => {
    const openai = new OpenAI({ baseURL: `${fx.gw.url}/v1`, apiKey: CLIENT_TOKEN, maxRetries: 0 });
    const listed: string[] = [];
    for await (const m of openai.models.list()) listed.push(m.id);
    assert.deepEqual(listed, ALL);
    const anthropic = new Anthropic({ baseURL: fx.gw.url, apiKey: CLIENT_TOKEN, maxRetries: 0 });
    const page = await anthropic.models.list();
    assert.deepEqual(
      page.data.map((m) => [m.id, m.type]),
      ALL.map((n) => [n, 'model']),
    );
    assert.equal(page.has_more, false);
  });

  test('the Gemini SDK lists them from GET /v1beta/models', async () => {
    const ai = new GoogleGenAI({ apiKey: CLIENT_TOKEN, httpOptions: { baseUrl: fx.gw.url } });
    const names: string[] = [];
    for await (const m of await ai.models.list()) names.push(m.name ?? '');
    assert.deepEqual(
      names,
      ALL.map((n) => `models/${n}`),
    );
  });

  test('the listing needs the client token like inference, in the caller shape', async () => {
    const r = await fetch(`${fx.gw.url}/v1/models`);
    assertNativeError(
      'openai',
      { status: r.status, headers: r.headers, body: await r.text() },
      badCredentialKind('openai'),
    );
    const g = await fetch(`${fx.gw.url}/v1beta/models?key=wrong`);
    assertNativeError(
      'gemini',
      { status: g.status, headers: g.headers, body: await g.text() },
      badCredentialKind('gemini'),
    );
    const ok = await fetch(`${fx.gw.url}/v1beta/models?key=${CLIENT_TOKEN}`);
    assert.equal(ok.status, 200);
    await ok.text();
    const post = await fetch(`${fx.gw.url}/v1/models`, {
      method: 'POST',
      headers: { authorization: `Bearer ${CLIENT_TOKEN}` },
    });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET');
    await post.text();
  });
});

// Issue 20, item 3: every request field a translated attempt drops is counted by field and
// protocol pair, and a same-protocol hop drops nothing.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseExposition } from '../support/prometheus.ts';
import { CLIENT_TOKEN, LANES } from '../support/six-providers.ts';
import { useSixProvidersGateway } from '../support/six-providers-gateway.ts';

const fx = useSixProvidersGateway();

async function chat(model: string, extra: Record<string, unknown>): Promise<void> {
  const r = await fetch(`${fx.gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${CLIENT_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], ...extra }),
  });
  assert.equal(r.status, 200, await r.text());
}

async function losses(): Promise<ReturnType<typeof parseExposition>> {
  const r = await fetch(`${fx.gw.url}/metrics`, { headers: { authorization: `Bearer ${CLIENT_TOKEN}` } });
  return parseExposition(await r.text());
}

describe('fields lost in translation', () => {
  it('are counted by field and protocol pair; unnamed extras as other_field; a same-protocol hop counts none', async () => {
    const extras = {
      seed: 7,
      logit_bias: { '50256': -100 },
      user: 'u-1',
      metadata: { team: 'a' },
      x_vendor_knob: 1,
    };
    await chat(LANES.gemini.model, extras);
    await chat(LANES.gemini.model, { seed: 8 });
    await chat(LANES.openai.model, extras);
    await chat(LANES.anthropic.model, { response_format: { type: 'json_object' } });
    const m = await losses();
    const get = (to: string, field: string) =>
      m.get('busbar_translation_losses_total', { from: 'openai', to, field });
    assert.equal(get('gemini', 'seed'), 2);
    assert.equal(get('gemini', 'logit_bias'), 1);
    assert.equal(get('gemini', 'other_field'), 1);
    assert.equal(get('gemini', 'user'), 1);
    assert.equal(get('gemini', 'metadata'), 1);
    assert.equal(get('anthropic', 'json_object'), 1);
    assert.deepEqual(m.all('busbar_translation_losses_total', { to: 'openai' }), []);
  });
});

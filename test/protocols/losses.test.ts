// Issue 20, item 3: which fields each upstream protocol cannot carry.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Request } from '../../src/protocols/ir.ts';
import { LOSS_FIELDS, lostInTranslation } from '../../src/protocols/losses.ts';

const BASE: Request = { model: 'm', system: [], messages: [], tools: [], stop: [], stream: false, extra: {} };

describe('lostInTranslation', () => {
  it('names unmodelled extras from a closed set', () => {
    const req = { ...BASE, extra: { seed: 1, 'anything-the-client-invents': 2, other: 3 } };
    assert.deepEqual(lostInTranslation(req, 'anthropic'), ['seed', 'other_field']);
    for (const field of lostInTranslation(req, 'gemini')) assert.ok(LOSS_FIELDS.includes(field));
  });

  it('top-k and temperature are lost to Anthropic only with thinking on', () => {
    const req = { ...BASE, topK: 5, temperature: 0.3 };
    assert.deepEqual(lostInTranslation(req, 'anthropic'), []);
    assert.deepEqual(lostInTranslation({ ...req, reasoning: { budgetTokens: 2048 } }, 'anthropic'), [
      'top_k',
      'temperature',
    ]);
    assert.deepEqual(lostInTranslation(req, 'gemini'), []);
    assert.deepEqual(lostInTranslation(req, 'bedrock'), ['top_k']);
  });

  it('earlier reasoning: unsigned to Anthropic, signatures to Cohere, everything to OpenAI', () => {
    const req: Request = {
      ...BASE,
      messages: [{ role: 'assistant', content: [{ type: 'thinking', thinking: 't' }] }],
    };
    assert.deepEqual(lostInTranslation(req, 'anthropic'), ['reasoning_history']);
    assert.deepEqual(lostInTranslation(req, 'openai'), ['reasoning_history']);
    const signed: Request = {
      ...BASE,
      messages: [{ role: 'assistant', content: [{ type: 'thinking', thinking: 't', signature: 's' }] }],
    };
    assert.deepEqual(lostInTranslation(signed, 'anthropic'), []);
    assert.deepEqual(lostInTranslation(signed, 'cohere'), ['reasoning_signature']);
  });

  it('media Bedrock and Cohere cannot take', () => {
    const req: Request = {
      ...BASE,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image', source: { kind: 'url', url: 'https://example.com/a.png' } },
            { type: 'document', source: { kind: 'base64', mediaType: 'application/pdf', data: 'AA==' } },
          ],
        },
      ],
    };
    assert.deepEqual(lostInTranslation(req, 'bedrock'), ['image']);
    assert.deepEqual(lostInTranslation(req, 'cohere'), ['document']);
    assert.deepEqual(lostInTranslation(req, 'anthropic'), []);
  });
});

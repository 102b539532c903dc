// Issue 14: the embedding codecs' edges — encodings, token-id inputs, Gemini's single and batch
// shapes and its batch items' model names.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { packFloat32, unpackFloat32 } from '../../src/protocols/embed.ts';
import { InvalidRequest } from '../../src/protocols/expect.ts';
import { EMBED_CODECS } from '../../src/protocols/operation-codecs.ts';

const openai = EMBED_CODECS.openai!;
const gemini = EMBED_CODECS.gemini!;
const cohere = EMBED_CODECS.cohere!;
const bedrock = EMBED_CODECS.bedrock!;

describe('embedding codecs', () => {
  it('float32 base64 packing round-trips float32 values exactly', () => {
    const v = [0.5, -0.25, 1 / 3, 1e-7];
    assert.deepEqual(unpackFloat32(packFloat32(v)), [...new Float32Array(v)]);
    assert.throws(() => unpackFloat32('AAA='), /float32/);
  });

  it('Cohere may ask for float and base64 at once; both come back from any upstream', () => {
    const req = cohere.readRequest({
      model: 'm',
      texts: ['a'],
      input_type: 'search_query',
      embedding_types: ['float', 'base64'],
    });
    assert.equal(req.purpose, 'query');
    const out = cohere.writeResponse({ model: 'm', vectors: [[0.5, 0.25]], inputTokens: 3 }, req.reply) as {
      embeddings: { float: number[][]; base64: string[] };
      meta: { billed_units: { input_tokens: number } };
    };
    assert.deepEqual(out.embeddings.float, [[0.5, 0.25]]);
    assert.deepEqual(unpackFloat32(out.embeddings.base64[0]!), [0.5, 0.25]);
    assert.equal(out.meta.billed_units.input_tokens, 3);
  });

  it('quantised Cohere types are refused for translation, naming the field', () => {
    assert.throws(
      () =>
        cohere.readRequest({
          model: 'm',
          texts: ['a'],
          input_type: 'search_query',
          embedding_types: ['int8'],
        }),
      (e: Error) => e instanceof InvalidRequest && /embedding_types: 'int8'/.test(e.message),
    );
  });

  it('OpenAI token-id inputs go to OpenAI and are refused elsewhere', () => {
    const req = openai.readRequest({ model: 'm', input: [[1, 2, 3], 'text'] });
    assert.deepEqual(openai.writeRequest(req, 'up').input, [[1, 2, 3], 'text']);
    assert.throws(
      () => gemini.writeRequest(req, 'up'),
      (e: Error) => e instanceof InvalidRequest && /token-id/.test(e.message),
    );
  });

  it("Gemini's embedContent answers in the single shape; batchEmbedContents in the batch shape", () => {
    const single = gemini.readRequest({
      content: { parts: [{ text: 'a' }, { text: 'b' }] },
      taskType: 'CLUSTERING',
    });
    assert.deepEqual(single.inputs, [{ kind: 'text', text: 'a b' }]);
    assert.equal(single.purpose, 'clustering');
    assert.deepEqual(
      gemini.writeResponse({ model: '', vectors: [[1]], inputTokens: undefined }, single.reply),
      {
        embedding: { values: [1] },
      },
    );
    const batch = gemini.readRequest({
      requests: [{ model: 'models/x', content: { parts: [{ text: 'a' }] } }],
    });
    assert.deepEqual(
      gemini.writeResponse({ model: '', vectors: [[1]], inputTokens: undefined }, batch.reply),
      {
        embeddings: [{ values: [1] }],
      },
    );
  });

  it('a forwarded Gemini batch names the upstream model in every item', () => {
    const body = { requests: [{ model: 'models/pool', content: { parts: [{ text: 'a' }] } }] };
    assert.deepEqual(gemini.retarget?.(body, 'text-embedding-004'), {
      requests: [{ model: 'models/text-embedding-004', content: { parts: [{ text: 'a' }] } }],
    });
    assert.equal(gemini.retarget?.({ requests: [{ model: 'models/up', content: {} }] }, 'up'), undefined);
  });

  it('Bedrock reads the body family from the body and writes the family of the model', () => {
    const titan = bedrock.readRequest({ inputText: 'x', dimensions: 256 });
    assert.deepEqual(bedrock.writeRequest(titan, 'cohere.embed-v4:0'), {
      texts: ['x'],
      input_type: 'search_document',
      embedding_types: ['float'],
      output_dimension: 256,
    });
    assert.equal(bedrock.dialectOf?.({ texts: ['x'] }), bedrock.dialectFor?.('us.cohere.embed-v4:0'));
    assert.notEqual(bedrock.dialectOf?.({ inputText: 'x' }), bedrock.dialectFor?.('cohere.embed-v4:0'));
  });
});

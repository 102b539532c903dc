// Issue 14: a model's `mode` (chat, embedding, rerank), driven through `busbar --validate`.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AUTH, CATALOG, CONCURRENT, run } from './helpers.ts';

const PROVIDERS = `${CATALOG}
gemini:
  protocol: gemini
  base_url: https://generativelanguage.googleapis.com
cohere:
  protocol: cohere
  base_url: https://api.cohere.com
bedrock:
  protocol: bedrock
  base_url: https://bedrock-runtime.us-east-1.amazonaws.com
zai:
  protocol: openai
  base_url: https://api.z.ai/api/paas/v4
  path: /chat/completions
`;

const ACTIVE = `${AUTH}providers:
  openai: {api_key_env: T_OPENAI_KEY}
  anthropic: {api_key_env: T_OPENAI_KEY}
  gemini: {api_key_env: T_OPENAI_KEY}
  cohere: {api_key_env: T_OPENAI_KEY}
  bedrock: {api_key_env: T_OPENAI_KEY}
  zai: {api_key_env: T_OPENAI_KEY}
`;

async function validate(models: string, pools = ''): Promise<{ status: number | null; errors: string[] }> {
  const r = await run({
    config: `${ACTIVE}models:\n${models}${pools === '' ? '' : `pools:\n${pools}`}`,
    providers: PROVIDERS,
  });
  assert.ok(!r.stderr.includes('    at '), r.stderr);
  return r;
}

describe('model mode', CONCURRENT, () => {
  test('embedding and rerank models on protocols that serve them validate', async () => {
    const r = await validate(
      [
        '  gpt: {provider: openai, max_concurrent: 1}',
        '  te3: {provider: openai, max_concurrent: 1, mode: embedding}',
        '  te4: {provider: gemini, max_concurrent: 1, mode: embedding}',
        '  ce: {provider: cohere, max_concurrent: 1, mode: embedding}',
        "  'amazon.titan-embed-text-v2:0': {provider: bedrock, max_concurrent: 1, mode: embedding}",
        '  rr: {provider: cohere, max_concurrent: 1, mode: rerank}',
        '',
      ].join('\n'),
      '  embeds:\n    members: [{target: te3}, {target: te4}, {target: ce}]\n',
    );
    assert.equal(r.status, 0, r.errors.join('\n'));
  });

  test('an unknown mode names the key and the values', async () => {
    const r = await validate('  x: {provider: openai, max_concurrent: 1, mode: embeddings}\n');
    assert.equal(r.status, 1);
    assert.match(r.errors.join('\n'), /mode.*chat, embedding, rerank/);
  });

  test('a mode the provider protocol has no endpoint for is refused', async () => {
    const r = await validate(
      '  claude-embed: {provider: anthropic, max_concurrent: 1, mode: embedding}\n  rr: {provider: openai, max_concurrent: 1, mode: rerank}\n',
    );
    assert.equal(r.status, 1);
    assert.deepEqual(r.errors, [
      "model 'claude-embed' (mode: embedding) is on provider 'anthropic', whose protocol 'anthropic' has no embedding endpoint; embedding models need a provider speaking openai, gemini, cohere, bedrock",
      "model 'rr' (mode: rerank) is on provider 'openai', whose protocol 'openai' has no rerank endpoint; rerank models need a provider speaking cohere",
    ]);
  });

  test('a Bedrock embedding model must be a family whose body is known', async () => {
    const r = await validate(
      "  'meta.llama3-embed': {provider: bedrock, max_concurrent: 1, mode: embedding}\n",
    );
    assert.equal(r.status, 1);
    assert.match(
      r.errors[0]!,
      /Amazon Titan text embeddings and Cohere embed models; 'meta.llama3-embed' is neither/,
    );
  });

  test('a provider with a chat path override cannot serve embeddings', async () => {
    const r = await validate('  embedding-3: {provider: zai, max_concurrent: 1, mode: embedding}\n');
    assert.equal(r.status, 1);
    assert.match(r.errors[0]!, /overrides the chat path \(path: \/chat\/completions\)/);
  });

  test('a pool never mixes modes, and a fallback pool serves the same mode', async () => {
    const r = await validate(
      '  gpt: {provider: openai, max_concurrent: 1}\n  te3: {provider: openai, max_concurrent: 1, mode: embedding}\n',
      [
        '  mixed:\n    members: [{target: gpt}, {target: te3}]',
        '  chat:\n    members: [{target: gpt}]\n    on_exhausted: {action: "fallback_pool:embeds"}',
        '  embeds:\n    members: [{target: te3}]',
        '',
      ].join('\n'),
    );
    assert.equal(r.status, 1);
    assert.deepEqual(r.errors, [
      "pool 'mixed' mixes models of different modes (chat: gpt; embedding: te3); a pool serves one kind of request",
      "pool 'chat' (chat) falls back to pool 'embeds' (embedding); a fallback pool must serve the same mode",
    ]);
  });
});

describe('upstream_model', CONCURRENT, () => {
  test('an empty id or one with control characters is refused', async () => {
    const r = await validate(
      '  a: {provider: openai, max_concurrent: 1, upstream_model: \'\'}\n  b: {provider: openai, max_concurrent: 1, upstream_model: "x\\ty"}\n',
    );
    assert.equal(r.status, 1);
    assert.deepEqual(r.errors, [
      "model 'a' upstream_model must not be empty",
      "model 'b' upstream_model must not contain control characters",
    ]);
  });

  test('an id that is not a string is refused on one line naming the key', async () => {
    const r = await validate('  a: {provider: openai, max_concurrent: 1, upstream_model: [gpt-4o]}\n');
    assert.equal(r.status, 1);
    assert.equal(r.errors.length, 1, r.errors.join('\n'));
    assert.match(r.errors[0]!, /models\.a\.upstream_model: expected a string/);
  });

  test('an id with the characters of an ARN or a namespace is accepted as written', async () => {
    const r = await validate(
      "  'sonnet@bedrock': {provider: bedrock, max_concurrent: 1, upstream_model: 'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-5-20250929-v1:0'}\n  'gpt/4o': {provider: openai, max_concurrent: 1, upstream_model: 'openai/gpt-4o'}\n",
    );
    assert.equal(r.status, 0, r.errors.join('\n'));
  });

  test("a Bedrock embedding model's family is read from its upstream id", async () => {
    const r = await validate(
      "  titan: {provider: bedrock, max_concurrent: 1, mode: embedding, upstream_model: 'amazon.titan-embed-text-v2:0'}\n",
    );
    assert.equal(r.status, 0, r.errors.join('\n'));
  });
});

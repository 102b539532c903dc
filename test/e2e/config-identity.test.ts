// Issue 16, item 6: /stats and the startup log say which configuration is serving — a SHA-256 of
// both files' text as read (never of substituted secrets) and when it was loaded.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { startGateway } from '../support/gateway-process.ts';

const catalog = 'up:\n  protocol: openai\n  base_url: http://127.0.0.1:9\n';
const config = (models: string) =>
  [
    'listen: 127.0.0.1:0',
    'auth:\n  mode: token\n  client_tokens: ["${CI_TOKEN}"]',
    'providers:\n  up: {api_key_env: K}',
    `models:\n${models}`,
  ].join('\n');

async function identity(models: string, token: string) {
  const gw = await startGateway({
    configYaml: config(models),
    providersYaml: catalog,
    env: { K: 'k', CI_TOKEN: token },
  });
  try {
    const stats = (await (
      await fetch(`${gw.url}/stats`, { headers: { authorization: `Bearer ${token}` } })
    ).json()) as {
      config: { hash: string; loaded_at: string };
    };
    return { stats: stats.config, stderr: gw.stderr() };
  } finally {
    await gw.stop();
  }
}

describe('configuration identity', () => {
  it('/stats and the log name the files by hash and load time; a secret value does not enter the hash', async () => {
    const t0 = Date.now();
    const a = await identity('  m: {provider: up, max_concurrent: 1}', 'secret-one');
    const expected = createHash('sha256')
      .update(catalog)
      .update('\0')
      .update(config('  m: {provider: up, max_concurrent: 1}'))
      .update('\0')
      .digest('hex');
    assert.equal(a.stats.hash, expected);
    const loaded = Date.parse(a.stats.loaded_at);
    assert.ok(loaded >= t0 - 1000 && loaded <= Date.now(), a.stats.loaded_at);
    assert.match(
      a.stderr,
      new RegExp(`\\[info\\] config ${expected.slice(0, 12)} loaded at ${a.stats.loaded_at}`),
    );
    // Another token value, the same files: the same hash. Another model: another hash.
    assert.equal(
      (await identity('  m: {provider: up, max_concurrent: 1}', 'secret-two')).stats.hash,
      expected,
    );
    assert.notEqual(
      (await identity('  n: {provider: up, max_concurrent: 1}', 'secret-one')).stats.hash,
      expected,
    );
  });
});

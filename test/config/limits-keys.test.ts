// Issue 14: the `limits:` keys for numbers that used to be fixed, and `attempt_timeout_ms`, through
// `busbar --validate`: each refuses 0, and a cap counted per process says so under `workers`.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError } from '../../src/config/errors.ts';
import { loadConfigText } from '../support/load-config.ts';
import { AUTH, BASE, CATALOG, CONCURRENT, PROVIDERS, run } from './helpers.ts';

/** The keys issue 14 added to `limits:`. */
const NEW_LIMITS = [
  'max_request_body_bytes',
  'request_deadline_secs',
  'max_inbound_concurrent',
  'tls_handshake_timeout_secs',
  'upstream_timeout_secs',
  'upstream_connections_per_host',
  'upstream_idle_secs',
  'max_error_body_bytes',
  'max_retry_after_secs',
  'default_max_tokens',
];

/** Every config line the in-process loader refuses `text` with (none when it loads). */
function refusal(text: string): string[] {
  try {
    loadConfigText(text, CATALOG, { T_OPENAI_KEY: 'sk-test' });
    return [];
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.lines;
  }
}

/** `attempt_timeout_ms: <value>` on a model, or on a pool's failover. */
const onModel = (value: string): string =>
  `${AUTH}${PROVIDERS}models:\n  gpt: {provider: openai, max_concurrent: 1, attempt_timeout_ms: ${value}}\n`;
const onPool = (value: string): string =>
  `${BASE}pools:\n  p:\n    members: [{target: gpt}]\n    failover: {attempt_timeout_ms: ${value}}\n`;

describe('limits and attempt timeouts', CONCURRENT, () => {
  test('every new key loads with a value', async () => {
    const r = await run({
      config: `${BASE}limits:
  max_request_body_bytes: 1048576
  request_deadline_secs: 300
  max_inbound_concurrent: 100
  tls_handshake_timeout_secs: 5
  upstream_timeout_secs: 120
  upstream_connections_per_host: 32
  upstream_idle_secs: 30
  max_error_body_bytes: 65536
  max_retry_after_secs: 600
  default_max_tokens: 1024
`,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.warnings, []);
  });

  test('0 is refused where it means nothing', async () => {
    const keys = [
      'max_request_body_bytes',
      'request_deadline_secs',
      'tls_handshake_timeout_secs',
      'upstream_timeout_secs',
      'upstream_idle_secs',
      'max_error_body_bytes',
      'max_retry_after_secs',
      'default_max_tokens',
    ];
    const r = await run({ config: `${BASE}limits:\n${keys.map((k) => `  ${k}: 0`).join('\n')}\n` });
    assert.equal(r.status, 1);
    assert.deepEqual(
      r.errors,
      keys.map((k) => `limits.${k} must be >= 1`),
    );
  });

  test('each key takes only an unsigned integer', () => {
    const found = { abc: 'a string', '-1': 'an integer (-1)', '1.5': 'a float (1.5)' };
    for (const [value, what] of Object.entries(found)) {
      for (const key of NEW_LIMITS) {
        assert.deepEqual(refusal(`${BASE}limits:\n  ${key}: ${value}\n`), [
          `config.yaml: invalid YAML: limits.${key}: expected an unsigned integer, found ${what}`,
        ]);
      }
      assert.deepEqual(refusal(onModel(value)), [
        `config.yaml: invalid YAML: models.gpt.attempt_timeout_ms: expected an unsigned integer, found ${what}`,
      ]);
      assert.deepEqual(refusal(onPool(value)), [
        `config.yaml: invalid YAML: pools.p.failover.attempt_timeout_ms: expected an unsigned integer, found ${what}`,
      ]);
    }
  });

  test('a duration past the longest timer is refused (it would fire at once)', () => {
    const lines = (text: string): string[] => refusal(text).filter((l) => l.includes('longest timer'));
    const timers = [
      'header_timeout_secs',
      'keepalive_idle_secs',
      'body_grace_secs',
      'http2_session_idle_secs',
      'request_deadline_secs',
      'tls_handshake_timeout_secs',
      'upstream_timeout_secs',
      'upstream_idle_secs',
    ];
    const over = lines(`${BASE}limits:\n${timers.map((k) => `  ${k}: 2147484`).join('\n')}\n`);
    assert.deepEqual(
      over,
      timers.map((k) => `limits.${k} must be <= 2147483 (the longest timer, about 24.8 days)`),
    );
    assert.deepEqual(lines(`${BASE}limits:\n${timers.map((k) => `  ${k}: 2147483`).join('\n')}\n`), []);
    assert.deepEqual(lines(onModel('2147483648')), [
      "model 'gpt' attempt_timeout_ms must be <= 2147483647 (the longest timer, about 24.8 days)",
    ]);
    assert.match(
      lines(onPool('2147483648')).join('\n'),
      /pool 'p'.*failover\.attempt_timeout_ms must be <= 2147483647/,
    );
    assert.deepEqual(refusal(onModel('2147483647')), []);
    assert.match(
      lines(
        `${BASE}pools:\n  p:\n    members: [{target: gpt}]\n    failover: {deadline_secs: 2147484}\n`,
      ).join(),
      /pool 'p'.*failover\.deadline_secs must be <= 2147483/,
    );
  });

  test('max_retry_after_secs above a day is refused: no Retry-After is honoured beyond it', async () => {
    const over = await run({ config: `${BASE}limits:\n  max_retry_after_secs: 86401\n` });
    assert.equal(over.status, 1);
    assert.deepEqual(over.errors, ['limits.max_retry_after_secs must be <= 86400']);
    const day = await run({ config: `${BASE}limits:\n  max_retry_after_secs: 86400\n` });
    assert.equal(day.status, 0, day.stderr);
  });

  test('attempt_timeout_ms 0 on a model or a pool is refused', async () => {
    const r = await run({
      config: `${AUTH}${PROVIDERS}models:
  gpt: {provider: openai, max_concurrent: 1, attempt_timeout_ms: 0}
pools:
  p:
    members: [{target: gpt}]
    failover: {attempt_timeout_ms: 0}
`,
    });
    assert.equal(r.status, 1);
    assert.ok(r.errors.includes("model 'gpt' attempt_timeout_ms must be >= 1"), r.errors.join('\n'));
    assert.ok(
      r.errors.some((e) => /pool 'p'.*failover\.attempt_timeout_ms must be >= 1/.test(e)),
      r.errors.join('\n'),
    );
  });

  test('max_inbound_concurrent with workers > 1 is counted per process, and startup says so', async () => {
    const r = await run({ config: `${BASE}workers: 2\nlimits:\n  max_inbound_concurrent: 10\n` });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.warnings, [
      'workers is 2: each worker process keeps its own max_concurrent permits, so a model admits up to 2 × max_concurrent requests in flight',
      'workers is 2: each worker process sheds past its own limits.max_inbound_concurrent (10), so the node admits up to 2 × 10 = 20 inference requests in progress',
    ]);
    const one = await run({ config: `${BASE}workers: 1\nlimits:\n  max_inbound_concurrent: 10\n` });
    assert.deepEqual(one.warnings, []);
  });
});

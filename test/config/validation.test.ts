// The validation catalogue G-VAL-1…36 (§1.15), each driven through `busbar --validate`.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AUTH, BASE, CONCURRENT, MODELS, PROVIDERS, type RunResult, run } from './helpers.ts';

const ESCAPES =
  "if this is intended, add the host to security.allow_metadata_hosts or to the provider's allow_metadata_hosts, or set security.allow_all_metadata: true";

function expectErrors(r: RunResult, lines: readonly string[]): void {
  assert.equal(r.status, 1, r.stderr);
  assert.deepEqual(r.errors, lines);
  assert.equal(r.stdout, '');
  assert.ok(!r.stderr.includes('    at '), `stack trace on stderr:\n${r.stderr}`);
}

function expectOk(r: RunResult, models: number, pools: number): void {
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, `config OK: ${models} models, ${pools} pools\n`);
}

/** A two-model config (gpt on openai, claude on anthropic) with a pool block appended. */
const TWO = `${AUTH}providers:
  openai: {api_key_env: T_OPENAI_KEY}
  anthropic: {api_key_env: T_OPENAI_KEY}
models:
  gpt: {provider: openai, max_concurrent: 4}
  claude: {provider: anthropic, max_concurrent: 2}
`;

function pool(body: string, name = 'main'): string {
  return `${TWO}pools:\n  ${name}:\n    members: [{target: gpt}, {target: claude}]\n${body}`;
}

describe('abort immediately (G-VAL-1…3)', CONCURRENT, () => {
  test('G-VAL-1 interpolation error aborts with the G-CFG-6 message', async () => {
    expectErrors(await run({ config: `${BASE}listen: \${BUSBAR_TEST_UNSET_VAR}\n` }), [
      'config.yaml: unset environment variable: BUSBAR_TEST_UNSET_VAR',
    ]);
  });

  test('G-VAL-2 an explicit config path that does not exist is fatal', async () => {
    const r = await run({ config: BASE, env: { BUSBAR_CONFIG: '/nonexistent/busbar/config.yaml' } });
    expectErrors(r, [
      "cannot read config file '/nonexistent/busbar/config.yaml': no such file or directory (set BUSBAR_CONFIG)",
    ]);
  });

  test('G-VAL-2 an explicit providers path that does not exist is fatal', async () => {
    const r = await run({ config: BASE, env: { BUSBAR_PROVIDERS: '/nonexistent/providers.yaml' } });
    expectErrors(r, [
      "cannot read providers file '/nonexistent/providers.yaml': no such file or directory (set BUSBAR_PROVIDERS)",
    ]);
  });

  test('G-VAL-3 a float in an integer field names the key path', async () => {
    const r = await run({
      config: `${AUTH}${PROVIDERS}models:\n  gpt: {provider: openai, max_concurrent: 1.5}\n`,
    });
    expectErrors(r, [
      'config.yaml: invalid YAML: models.gpt.max_concurrent: expected an unsigned integer, found a float (1.5)',
    ]);
  });

  test('G-VAL-3 a string in an integer field is rejected', async () => {
    const r = await run({
      config: `${AUTH}${PROVIDERS}models:\n  gpt: {provider: openai, max_concurrent: "4"}\n`,
    });
    expectErrors(r, [
      'config.yaml: invalid YAML: models.gpt.max_concurrent: expected an unsigned integer, found a string',
    ]);
  });

  test('G-SEC-50 a number where a secret belongs is named by its path, never echoed', async () => {
    for (const auth of [
      'auth:\n  mode: token\n  client_tokens: [987654321987654321]\n',
      'auth:\n  mode: token\n  token: 987654321987654321\n',
    ]) {
      const r = await run({
        config: `${auth}${PROVIDERS}models:\n  gpt: {provider: openai, max_concurrent: 1}\n`,
      });
      assert.equal(r.status, 1);
      assert.match(r.stderr, /auth\.(client_tokens\[0\]|token): expected a string/);
      assert.doesNotMatch(r.stderr + r.stdout, /987654321/);
    }
  });

  test('G-VAL-3 a negative value in an unsigned field is rejected', async () => {
    const r = await run({ config: `${BASE}pools:\n  p:\n    members: [{target: gpt, weight: -1}]\n` });
    expectErrors(r, [
      'config.yaml: invalid YAML: pools.p.members[0].weight: expected an unsigned integer, found an integer (-1)',
    ]);
  });

  test('G-VAL-3 an unknown enum value is rejected', async () => {
    const r = await run({
      config: `${BASE}pools:\n  p:\n    members: [{target: gpt}]\n    breaker: {trip: {mode: fast}}\n`,
    });
    expectErrors(r, [
      "config.yaml: invalid YAML: pools.p.breaker.trip.mode: unknown variant 'fast', expected one of error_rate, consecutive",
    ]);
  });

  test('G-VAL-3 an unknown route lists the allowed set', async () => {
    const r = await run({ config: `${BASE}pools:\n  p:\n    members: [{target: gpt}]\n    route: random\n` });
    expectErrors(r, [
      "config.yaml: invalid YAML: pools.p.route: unknown variant 'random', expected one of weighted, native, webhook, script, cheapest, fastest, least_busy, usage",
    ]);
  });

  test('G-VAL-34 a native route needs a known policy name; on_error and cost_per_mtok are checked', async () => {
    const r = await run({
      config: `${BASE}pools:\n  a: {members: [{target: gpt}], route: native}\n  b: {members: [{target: gpt}], route: native, policy: {name: random}}\n  c: {members: [{target: gpt, cost_per_mtok: -1}], route: cheapest, policy: {on_error: retry}}\n`,
    });
    const names = 'one of weighted, cheapest, fastest, least_busy, usage';
    expectErrors(r, [
      `pool 'a' route native needs policy.name: ${names}`,
      `pool 'b' policy.name 'random' is not a native policy: use ${names}`,
      "pool 'c' policy.on_error 'retry' is not one of weighted, reject, first, abstain",
      "pool 'c' members[0].cost_per_mtok must be a number >= 0 (got -1)",
    ]);
  });

  test('G-VAL-33 a webhook route needs a policy.url that passes the sidecar guard', async () => {
    const hook = (name: string, url?: string) =>
      `  ${name}: {members: [{target: gpt}], route: webhook${url === undefined ? '' : `, policy: {url: "${url}"}`}}\n`;
    const r = await run({
      config: `${BASE}pools:\n${hook('a')}${hook('b', 'http://ranker.example.com/rank')}${hook('c', 'https://u:p@ranker.example.com/')}${hook('d', 'unix:run/ranker.sock')}${hook('e', 'http://169.254.169.254/')}`,
    });
    expectErrors(r, [
      "pool 'a' route webhook needs policy.url: an http(s) URL, or unix:/path/to/socket",
      "pool 'b' policy.url 'http://ranker.example.com/rank': plain http is allowed only for a loopback host; use https",
      "pool 'c' policy.url 'https://***@ranker.example.com/': must not carry credentials",
      "pool 'd' policy.url 'unix:run/ranker.sock': a Unix socket needs an absolute path (unix:/run/ranker.sock)",
      "pool 'e' policy.url 'http://169.254.169.254/': host '169.254.169.254' is an internal address",
    ]);
    const ok = await run({
      config: `${BASE}pools:\n${hook('h', 'http://127.0.0.1:9/rank')}${hook('s', 'unix:/run/ranker.sock')}${hook('t', 'https://ranker.example.com/rank')}`,
    });
    expectOk(ok, 1, 3);
  });

  test('G-VAL-35 a script route needs exactly one readable source that compiles', async () => {
    const files = { 'rank.js': 'candidates.map(c => c.idx)' };
    const s = (name: string, policy: string) =>
      `  ${name}: {members: [{target: gpt, tags: [eu]}], route: script, policy: {${policy}}}\n`;
    const r = await run({
      config: `${BASE}pools:\n${s('a', 'timeout_ms: 50')}${s('b', 'script: "[0]", script_file: rank.js')}${s('c', 'script_file: missing.js')}${s('d', 'script: "candidates.map(c => "')}`,
      files,
    });
    assert.equal(r.status, 1, r.stderr);
    assert.deepEqual(
      r.errors.map((e) => e.replace(/compile: .*/, 'compile: …')),
      [
        "pool 'a' route script needs exactly one of policy.script and policy.script_file",
        "pool 'b' route script needs exactly one of policy.script and policy.script_file",
        "pool 'c' policy.script_file 'missing.js' cannot be read (ENOENT)",
        "pool 'd' policy script does not compile: …",
      ],
    );
    expectOk(
      await run({
        config: `${BASE}pools:\n${s('e', 'script_file: rank.js')}${s('f', 'script: "[0]"')}`,
        files,
      }),
      1,
      2,
    );
  });

  test('G-VAL-3 YAML 1.2 core schema: `yes` is a string, not a boolean', async () => {
    const r = await run({ config: `${BASE}security: {allow_all_metadata: yes}\n` });
    expectErrors(r, [
      'config.yaml: invalid YAML: security.allow_all_metadata: expected a boolean (true or false), found a string',
    ]);
  });

  test('G-VAL-3 duplicate keys are a parse error (G-CFG-12)', async () => {
    const r = await run({
      config: `${AUTH}${PROVIDERS}models:\n  gpt: {provider: openai, max_concurrent: 1}\n  gpt: {provider: openai, max_concurrent: 2}\n`,
    });
    expectErrors(r, ["config.yaml: invalid YAML: models: duplicate key 'gpt'"]);
  });

  test('G-VAL-3 a syntax error reports line and column', async () => {
    const r = await run({ config: `${BASE}pools: [\n` });
    assert.equal(r.status, 1);
    assert.equal(r.errors.length, 1);
    assert.match(r.errors[0]!, /^config\.yaml: invalid YAML: line \d+, column \d+: /);
  });

  test('G-VAL-3 a missing required key is named', async () => {
    expectErrors(await run({ config: `${AUTH}${PROVIDERS}` }), [
      "config.yaml: invalid YAML: missing required key 'models'",
    ]);
    expectErrors(await run({ config: `${AUTH}providers:\n  openai: {}\n${MODELS}` }), [
      "config.yaml: invalid YAML: providers.openai: missing required key 'api_key_env'",
    ]);
  });

  test('G-VAL-3 the catalog is type-checked too (providers.yaml prefix)', async () => {
    const r = await run({ config: BASE, providers: 'openai:\n  protocol: openai\n' });
    expectErrors(r, ["providers.yaml: invalid YAML: openai: missing required key 'base_url'"]);
  });
});

describe('resolve block (G-VAL-4…6)', CONCURRENT, () => {
  test('G-VAL-4 a deployment provider missing from the catalog', async () => {
    const r = await run({
      config: `${AUTH}providers:\n  openai: {api_key_env: T_OPENAI_KEY}\n  nope: {api_key_env: X}\n${MODELS}`,
    });
    expectErrors(r, [
      'config errors:',
      "  - provider 'nope' referenced in config.yaml not found in providers.yaml",
    ]);
  });

  test('G-VAL-4 all resolve errors in one block', async () => {
    const r = await run({
      config: `auth: {mode: passthrough}\n${PROVIDERS}  ghost: {api_key_env: X}\n  spook: {api_key_env: X}\n${MODELS}`,
    });
    expectErrors(r, [
      'config errors:',
      "  - provider 'ghost' referenced in config.yaml not found in providers.yaml",
      "  - provider 'spook' referenced in config.yaml not found in providers.yaml",
    ]);
  });

  test('G-VAL-4 resolve errors stop before validation runs', async () => {
    const r = await run({
      config: `${AUTH}providers:\n  nope: {api_key_env: X}\nmodels:\n  m: {provider: nope, max_concurrent: 0}\n`,
    });
    expectErrors(r, [
      'config errors:',
      "  - provider 'nope' referenced in config.yaml not found in providers.yaml",
    ]);
  });
});

describe('collected validation (G-VAL-7…36)', CONCURRENT, () => {
  test('G-VAL-7 host list entries containing / are rejected (all three lists)', async () => {
    const r = await run({
      config: `${AUTH}providers:\n  openai: {api_key_env: T_OPENAI_KEY, allow_metadata_hosts: [169.254.0.0/16]}\n${MODELS}security:\n  blocked_metadata_hosts: [10.0.0.0/8]\n  allow_metadata_hosts: [fd00::/8]\n`,
    });
    expectErrors(r, [
      "security.blocked_metadata_hosts entry '10.0.0.0/8' contains '/': CIDR ranges are not supported; list exact IPs or hostnames",
      "security.allow_metadata_hosts entry 'fd00::/8' contains '/': CIDR ranges are not supported; list exact IPs or hostnames",
      "provider 'openai' allow_metadata_hosts entry '169.254.0.0/16' contains '/': CIDR ranges are not supported; list exact IPs or hostnames",
    ]);
  });

  test('G-VAL-8 a model whose provider is not activated', async () => {
    const r = await run({ config: `${BASE}  claude: {provider: anthropic, max_concurrent: 1}\n` });
    expectErrors(r, ["model 'claude' references unknown provider 'anthropic'"]);
  });

  test('G-VAL-9 default_max_tokens: 0', async () => {
    const r = await run({
      config: `${AUTH}${PROVIDERS}models:\n  gpt: {provider: openai, max_concurrent: 1, default_max_tokens: 0}\n`,
    });
    expectErrors(r, ["model 'gpt' default_max_tokens must be > 0"]);
  });

  test('G-VAL-10 max_concurrent: 0', async () => {
    const r = await run({
      config: `${AUTH}${PROVIDERS}models:\n  gpt: {provider: openai, max_concurrent: 0}\n`,
    });
    expectErrors(r, ["model 'gpt' max_concurrent must be >= 1"]);
  });

  test('G-VAL-11 max_requests: 0 (negative values mean unlimited)', async () => {
    const r = await run({
      config: `${AUTH}${PROVIDERS}models:\n  gpt: {provider: openai, max_concurrent: 1, max_requests: 0}\n`,
    });
    expectErrors(r, [
      "model 'gpt' max_requests is 0: a zero budget never admits a request (omit it or use -1 for unlimited)",
    ]);
    expectOk(
      await run({
        config: `${AUTH}${PROVIDERS}models:\n  gpt: {provider: openai, max_concurrent: 1, max_requests: -5}\n`,
      }),
      1,
      0,
    );
  });

  test('G-VAL-12 reserved names for provider, model and pool; adminx is allowed', async () => {
    const r = await run({
      providers: 'admin: {protocol: openai, base_url: https://api.openai.com}\n',
      config: `${AUTH}providers:\n  admin: {api_key_env: T_OPENAI_KEY}\nmodels:\n  admin/x: {provider: admin, max_concurrent: 1}\n  adminx: {provider: admin, max_concurrent: 1}\npools:\n  admin: {members: [{target: adminx}]}\n  admin_portal: {members: [{target: adminx}]}\n`,
    });
    expectErrors(r, [
      "provider name 'admin' is reserved: 'admin' and 'admin/…' would collide with the /admin operator surface",
      "model name 'admin/x' is reserved: 'admin' and 'admin/…' would collide with the /admin operator surface",
      "pool name 'admin' is reserved: 'admin' and 'admin/…' would collide with the /admin operator surface",
      "pool name 'admin' collides with provider 'admin' (pools are resolved first and would shadow it)",
    ]);
  });

  test('G-VAL-13 a pool named like a provider or a model', async () => {
    const r = await run({
      config: `${BASE}pools:\n  gpt: {members: [{target: gpt}]}\n  openai: {members: [{target: gpt}]}\n`,
    });
    expectErrors(r, [
      "pool name 'gpt' collides with model 'gpt' (pools are resolved first and would shadow it)",
      "pool name 'openai' collides with provider 'openai' (pools are resolved first and would shadow it)",
    ]);
  });

  test('G-VAL-14 a provider protocol outside the six', async () => {
    const r = await run({
      config: `${AUTH}providers:\n  openai: {api_key_env: T_OPENAI_KEY, protocol: grpc}\n${MODELS}`,
    });
    expectErrors(r, [
      "provider 'openai' has unknown protocol 'grpc': expected one of openai, responses, anthropic, gemini, cohere, bedrock",
    ]);
  });

  test('G-VAL-15 an error_map value that is not a class (deployment entries merge onto the catalog)', async () => {
    const r = await run({
      config: `${AUTH}providers:\n  openai:\n    api_key_env: T_OPENAI_KEY\n    error_map: {quota_gone: broke}\n${MODELS}`,
    });
    expectErrors(r, [
      "provider 'openai' error_map maps 'quota_gone' to unknown class 'broke': expected one of rate_limit, overloaded, server_error, timeout, network, auth, billing, client_error, context_length",
    ]);
  });

  test('G-VAL-16 provider auth other than bearer / api-key', async () => {
    const r = await run({
      config: `${AUTH}providers:\n  openai: {api_key_env: T_OPENAI_KEY, auth: basic}\n${MODELS}`,
    });
    expectErrors(r, ["provider 'openai' has unknown auth 'basic': expected 'bearer' or 'api-key'"]);
  });

  test('G-VAL-17 http to a public host is rejected', async () => {
    const r = await run({
      config: `${AUTH}providers:\n  openai: {api_key_env: T_OPENAI_KEY, base_url: "http://api.example.com"}\n${MODELS}`,
    });
    expectErrors(r, [
      "provider 'openai' base_url 'http://api.example.com' must use https:// (plain http:// is allowed only for private or loopback hosts)",
    ]);
  });

  test('G-VAL-17 http to a loopback/private host is accepted (local model servers)', async () => {
    const r = await run({
      config: `${AUTH}providers:\n  local: {api_key_env: T_OPENAI_KEY}\n  openai: {api_key_env: T_OPENAI_KEY, base_url: "http://10.1.2.3:8000/v1/"}\nmodels:\n  llama: {provider: local, max_concurrent: 1}\n  gpt: {provider: openai, max_concurrent: 1}\n`,
    });
    expectOk(r, 2, 0);
  });

  test('G-VAL-17 a non-http(s) scheme is rejected', async () => {
    const r = await run({
      config: `${AUTH}providers:\n  openai: {api_key_env: T_OPENAI_KEY, base_url: "ftp://api.example.com"}\n${MODELS}`,
    });
    expectErrors(r, [
      "provider 'openai' base_url 'ftp://api.example.com' must use https:// (http:// only for private or loopback hosts)",
    ]);
  });

  test('4g a base_url the upstream client cannot parse is refused by --validate too', async () => {
    for (const url of ['https://exa mple.com', 'https://api.example.com:99999', 'https://[::1']) {
      const r = await run({
        args: ['--validate'],
        config: `${AUTH}providers:\n  openai: {api_key_env: T_OPENAI_KEY, base_url: "${url}"}\n${MODELS}`,
      });
      expectErrors(r, [`provider 'openai' base_url '${url}' is not a valid URL`]);
    }
  });

  test('G-VAL-18 a metadata host is rejected, naming provider, URL, host and the escape hatches', async () => {
    const r = await run({
      config: `${AUTH}providers:\n  openai: {api_key_env: T_OPENAI_KEY, base_url: "https://[::ffff:169.254.169.254]/"}\n${MODELS}`,
    });
    expectErrors(r, [
      `provider 'openai' base_url 'https://[::ffff:169.254.169.254]/' targets cloud-metadata host '::ffff:169.254.169.254'; ${ESCAPES}`,
    ]);
  });

  test('G-VAL-18 carve-outs: provider allow list, global allow list, allow_all_metadata', async () => {
    const bad = 'base_url: "https://0xa9fea9fe/"';
    expectOk(
      await run({
        config: `${AUTH}providers:\n  openai: {api_key_env: T_OPENAI_KEY, ${bad}, allow_metadata_hosts: [169.254.169.254]}\n${MODELS}`,
      }),
      1,
      0,
    );
    expectOk(
      await run({
        config: `${AUTH}providers:\n  openai: {api_key_env: T_OPENAI_KEY, ${bad}}\n${MODELS}security: {allow_metadata_hosts: ["169.254.169.254."]}\n`,
      }),
      1,
      0,
    );
    const all = await run({
      config: `${AUTH}providers:\n  openai: {api_key_env: T_OPENAI_KEY, ${bad}}\n${MODELS}security: {allow_all_metadata: true}\n`,
    });
    expectOk(all, 1, 0);
    assert.ok(
      all.warnings.includes(
        'metadata protection DISABLED — all cloud-metadata endpoints reachable (security.allow_all_metadata)',
      ),
    );
  });

  test('G-VAL-18 security.blocked_metadata_hosts extends the denylist', async () => {
    const r = await run({
      config: `${AUTH}providers:\n  openai: {api_key_env: T_OPENAI_KEY, base_url: "https://Internal.Example.COM./v1"}\n${MODELS}security: {blocked_metadata_hosts: [internal.example.com]}\n`,
    });
    expectErrors(r, [
      `provider 'openai' base_url 'https://Internal.Example.COM./v1' targets cloud-metadata host 'internal.example.com'; ${ESCAPES}`,
    ]);
  });

  test('G-VAL-19 a path not starting with /', async () => {
    const r = await run({
      config: `${AUTH}providers:\n  openai: {api_key_env: T_OPENAI_KEY, path: "chat/completions"}\n${MODELS}`,
    });
    expectErrors(r, [
      "provider 'openai' path 'chat/completions' must start with '/' (otherwise it fuses into the base_url host)",
    ]);
  });

  test('G-VAL-20 base_url + path that lands on a metadata host', async () => {
    const r = await run({
      config: `${AUTH}providers:\n  openai: {api_key_env: T_OPENAI_KEY, base_url: "https://metadata.google", path: ".internal/computeMetadata/v1"}\n${MODELS}`,
    });
    expectErrors(r, [
      "provider 'openai' path '.internal/computeMetadata/v1' must start with '/' (otherwise it fuses into the base_url host)",
      `provider 'openai' base_url + path 'https://metadata.google.internal/computeMetadata/v1' targets cloud-metadata host 'metadata.google.internal'; ${ESCAPES}`,
    ]);
  });

  test('G-VAL-21 a pool with no members', async () => {
    expectErrors(await run({ config: `${BASE}pools:\n  p: {members: []}\n` }), ["pool 'p' has no members"]);
    expectErrors(await run({ config: `${BASE}pools:\n  p: {route: weighted}\n` }), [
      "pool 'p' has no members",
    ]);
  });

  test('G-VAL-22 a member that is not a model; distinct message when its provider is unresolvable', async () => {
    const r = await run({
      config: `${BASE}  claude: {provider: anthropic, max_concurrent: 1}\npools:\n  p: {members: [{target: gpt}, {target: nope}, {target: claude}]}\n`,
    });
    expectErrors(r, [
      "model 'claude' references unknown provider 'anthropic'",
      "pool 'p' references unknown model 'nope'",
      "pool 'p' references model 'claude' whose provider 'anthropic' is not configured under providers:",
    ]);
  });

  test('G-VAL-23 breaker cooldowns of 0 or max < base', async () => {
    expectErrors(
      await run({ config: pool('    breaker: {base_cooldown_secs: 0, max_cooldown_secs: 0}\n') }),
      [
        "pool 'main' breaker.base_cooldown_secs must be >= 1",
        "pool 'main' breaker.max_cooldown_secs must be >= 1",
      ],
    );
    expectErrors(
      await run({ config: pool('    breaker: {base_cooldown_secs: 60, max_cooldown_secs: 30}\n') }),
      ["pool 'main' breaker.max_cooldown_secs (30) must be >= base_cooldown_secs (60)"],
    );
  });

  test('G-VAL-24 trip.min_requests or trip.window_s of 0 (checked in both modes)', async () => {
    const r = await run({
      config: pool('    breaker: {trip: {mode: consecutive, min_requests: 0, window_s: 0}}\n'),
    });
    expectErrors(r, [
      "pool 'main' breaker.trip.min_requests must be >= 1",
      "pool 'main' breaker.trip.window_s must be >= 1",
    ]);
  });

  test('G-VAL-25 error_rate threshold outside (0, 1]', async () => {
    expectErrors(await run({ config: pool('    breaker: {trip: {threshold: 0}}\n') }), [
      "pool 'main' breaker.trip.threshold must be in (0.0, 1.0] for mode error_rate (got 0)",
    ]);
    expectErrors(await run({ config: pool('    breaker: {trip: {mode: error_rate, threshold: 1.5}}\n') }), [
      "pool 'main' breaker.trip.threshold must be in (0.0, 1.0] for mode error_rate (got 1.5)",
    ]);
    // Not checked in consecutive mode.
    expectOk(await run({ config: pool('    breaker: {trip: {mode: consecutive, threshold: 7}}\n') }), 2, 1);
  });

  test('G-VAL-26 consecutive with n: 0', async () => {
    expectErrors(await run({ config: pool('    breaker: {trip: {mode: consecutive, n: 0}}\n') }), [
      "pool 'main' breaker.trip.n must be >= 1 for mode consecutive",
    ]);
  });

  test('G-VAL-27 failover.deadline_secs: 0 (cap: 0 is valid)', async () => {
    expectErrors(await run({ config: pool('    failover: {deadline_secs: 0, cap: 0}\n') }), [
      "pool 'main' failover.deadline_secs must be >= 1",
    ]);
  });

  test('G-VAL-28 an exclusion naming a non-member', async () => {
    expectErrors(await run({ config: pool('    failover: {exclusions: [gpt, nope]}\n') }), [
      "pool 'main' failover.exclusions names 'nope', which is not a member of the pool",
    ]);
  });

  test('G-VAL-29 fallback_pool naming an unknown pool', async () => {
    expectErrors(await run({ config: pool('    on_exhausted: {action: "fallback_pool:ghost"}\n') }), [
      "pool 'main' on_exhausted fallback_pool:ghost names an unknown pool 'ghost'",
    ]);
  });

  test('G-VAL-30 fallback_pool naming itself', async () => {
    expectErrors(await run({ config: pool('    on_exhausted: {action: "fallback_pool:main"}\n') }), [
      "pool 'main' on_exhausted fallback_pool:main references the pool itself; a self-reference never engages",
    ]);
  });

  test('G-VAL-31 fallback cycles are reported once per cycle', async () => {
    const members = 'members: [{target: gpt}]';
    const r = await run({
      config: `${BASE}pools:
  a: {${members}, on_exhausted: {action: "fallback_pool:b"}}
  b: {${members}, on_exhausted: {action: "fallback_pool:c"}}
  c: {${members}, on_exhausted: {action: "fallback_pool:a"}}
  d: {${members}, on_exhausted: {action: "fallback_pool:a"}}
  x: {${members}, on_exhausted: {action: "fallback_pool:y"}}
  y: {${members}, on_exhausted: {action: "fallback_pool:x"}}
  z: {${members}, on_exhausted: {action: "fallback_pool:x"}}
`,
    });
    expectErrors(r, [
      'on_exhausted fallback_pool chain forms a cycle: a -> b -> c -> a',
      'on_exhausted fallback_pool chain forms a cycle: x -> y -> x',
    ]);
  });

  test('G-VAL-32 affinity.mode other than session', async () => {
    expectErrors(await run({ config: pool('    affinity: {mode: sticky}\n') }), [
      "pool 'main' affinity.mode 'sticky' is not supported: the only mode is 'session'",
    ]);
  });

  test('G-VAL-36 unknown auth.mode, and token mode without effective tokens', async () => {
    expectErrors(await run({ config: `auth: {mode: bogus}\n${PROVIDERS}${MODELS}` }), [
      "auth.mode 'bogus' is not valid: expected one of token, passthrough, none",
    ]);
    expectErrors(
      await run({
        config: `auth: {mode: token, client_tokens: ["\${EMPTY_T}"]}\n${PROVIDERS}${MODELS}`,
        env: { EMPTY_T: '' },
      }),
      ['auth.mode is token but no client tokens are configured (auth.client_tokens is empty)'],
    );
    // Trimmed and case-insensitive; the legacy `token` is promoted when client_tokens is empty.
    expectOk(await run({ config: `auth: {mode: " TOKEN ", token: legacy}\n${PROVIDERS}${MODELS}` }), 1, 0);
  });

  test('G-VAL-7…36 every collected error is printed, one line each', async () => {
    const r = await run({
      config: `${AUTH}providers:\n  openai: {api_key_env: T_OPENAI_KEY, auth: basic}\nmodels:\n  gpt: {provider: openai, max_concurrent: 0}\npools:\n  p: {members: []}\n`,
    });
    expectErrors(r, [
      "provider 'openai' has unknown auth 'basic': expected 'bearer' or 'api-key'",
      "model 'gpt' max_concurrent must be >= 1",
      "pool 'p' has no members",
    ]);
  });
});

describe('reported individually after the collected set', CONCURRENT, () => {
  test('G-CFG-24 conflicting context_max across pools', async () => {
    const r = await run({
      config: `${TWO}pools:\n  a: {members: [{target: gpt, context_max: 128000}, {target: claude}]}\n  b: {members: [{target: gpt, context_max: 200000}]}\n  c: {members: [{target: gpt}]}\n`,
    });
    expectErrors(r, [
      "model 'gpt' has conflicting context_max across pools (128000 vs 200000); a model maps to one lane and must declare a single context_max",
    ]);
  });

  test('G-CFG-24 equal explicit values (and unset ones) are fine', async () => {
    const r = await run({
      config: `${TWO}pools:\n  a: {members: [{target: gpt, context_max: 128000}]}\n  b: {members: [{target: gpt, context_max: 128000}, {target: claude}]}\n  c: {members: [{target: gpt}]}\n`,
    });
    expectOk(r, 2, 3);
  });

  const cases: [string, string][] = [
    ['fallback_pool', "'fallback_pool' requires a pool name argument: use 'fallback_pool:<pool_name>'"],
    ['fallback_pool:', "'fallback_pool:' requires a non-empty pool name"],
    ['fallback', "use 'fallback_pool:<pool_name>'"],
    ['failover', "use 'fallback_pool:<pool_name>'"],
    [
      'retry',
      "unknown on_exhausted action 'retry': valid values are reject, 503, status_503, status503, least_bad, least-bad, leastbad, fallback_pool:<pool_name>",
    ],
  ];
  for (const [action, reason] of cases) {
    test(`§1.9 on_exhausted '${action}' is fatal with its exact message`, async () => {
      const r = await run({ config: pool(`    on_exhausted: {action: "${action}"}\n`) });
      expectErrors(r, [`pool 'main' has invalid on_exhausted action '${action}': ${reason}`]);
    });
  }

  test('§1.9 on_exhausted synonyms are accepted', async () => {
    const actions = [
      'reject',
      '503',
      'status_503',
      'status503',
      'least_bad',
      'least-bad',
      'leastbad',
      'fallback_pool:b',
    ];
    const pools = actions
      .map((a, i) => `  p${i}: {members: [{target: gpt}], on_exhausted: {action: "${a}"}}\n`)
      .join('');
    expectOk(
      await run({ config: `${BASE}pools:\n${pools}  b: {members: [{target: gpt}]}\n` }),
      1,
      actions.length + 1,
    );
  });

  test('G-TLS-4 --validate reads the TLS material', async () => {
    const r = await run({
      config: `${BASE}tls: {cert_file: /nonexistent/cert.pem, key_file: /nonexistent/key.pem}\n`,
    });
    expectErrors(r, [
      "TLS configuration error: cannot read TLS cert_file '/nonexistent/cert.pem': no such file or directory",
    ]);
  });

  test('G-CFG-15 an unparseable listen address is a bind failure', async () => {
    expectErrors(await run({ config: `${BASE}listen: "0.0.0.0:99999"\n` }), [
      "cannot bind listen address '0.0.0.0:99999': invalid socket address syntax",
    ]);
  });
});

const NOT_YET = 'not available yet in this version of busbar';
describe('governance (§1.11)', CONCURRENT, () => {
  test('enabled needs an admin token, refuses passthrough, and checks its values', async () => {
    expectErrors(
      await run({
        config: `${BASE}governance:\n  enabled: true\n  admin_token: '  '\n  budget_on_store_error: maybe\n`,
      }),
      [
        'governance.admin_token is required (non-blank) when governance.enabled is true',
        "governance.budget_on_store_error: unknown value 'maybe': valid values are allow, deny",
      ],
    );
    expectErrors(
      await run({
        config: `auth: {mode: passthrough}\n${PROVIDERS}${MODELS}governance: {enabled: true, admin_token: adm}\n`,
      }),
      [
        'governance.enabled with auth.mode: passthrough is not supported: virtual keys replace the caller credential that passthrough forwards; use auth.mode: token or none',
      ],
    );
    expectErrors(
      await run({
        config: `${BASE}governance:\n  enabled: true\n  admin_token: adm\n  model_prices:\n    nope: {input_per_1k_tokens_cents: 1}\n    gpt: {input_per_1k_tokens_cents: -1, output_per_1k_tokens_cents: 0.0000001}\n`,
      }),
      [
        "governance.model_prices.nope: no model 'nope' is configured under models",
        'governance.model_prices.gpt.input_per_1k_tokens_cents must be >= 0',
        'governance.model_prices.gpt.output_per_1k_tokens_cents: at most six decimal places',
      ],
    );
    const on = await run({
      config: `${BASE}governance:\n  enabled: true\n  admin_token: adm-zq81\n  db_path: gov.db\n  price_per_request_cents: 2\n  price_per_1k_tokens_cents: 1\n  budget_on_store_error: deny\n  model_prices:\n    gpt: {input_per_1k_tokens_cents: 0.25, output_per_1k_tokens_cents: 1.5}\n`,
    });
    expectOk(on, 1, 0);
    assert.ok(!on.stderr.includes('adm-zq81'), 'the admin token is never printed');
  });

  test('shared stores: store and rate_store together, valid URLs, never beside db_path; no URL echoed', async () => {
    const GOV = `${BASE}governance:\n  enabled: true\n  admin_token: adm\n`;
    expectErrors(await run({ config: `${GOV}  store: postgres://u:hunter2@db.internal/busbar\n` }), [
      'governance.store needs governance.rate_store (redis://…): replicas share their rate windows there, or each would admit its own RPM',
    ]);
    expectErrors(await run({ config: `${GOV}  rate_store: redis://cache:6379\n` }), [
      'governance.rate_store needs governance.store (postgres://…): a single node keeps exact rate windows in memory',
    ]);
    const bad = await run({
      config: `${GOV}  store: mysql://u:hunter2@db/busbar\n  rate_store: "not a url"\n  db_path: gov.db\n  reservation_ttl_secs: 1\n`,
    });
    expectErrors(bad, [
      'governance.store must start with postgres:// or postgresql://',
      'governance.rate_store is not a valid URL',
      'governance.db_path and governance.store are exclusive: keys and spend live in one store',
      'governance.reservation_ttl_secs must be between 3 and 3600',
    ]);
    assert.ok(!bad.stderr.includes('hunter2'), 'a store password is never printed');
    expectErrors(await run({ config: `${GOV}  rate_store_prefix: "x:"\n` }), [
      'governance.rate_store_prefix and governance.reservation_ttl_secs apply only with governance.store and governance.rate_store',
    ]);
  });

  test('dashboard.enabled needs governance (it signs in with the admin token)', async () => {
    expectErrors(await run({ config: `${BASE}dashboard:\n  enabled: true\n` }), [
      'dashboard.enabled needs governance.enabled: the dashboard signs in with governance.admin_token and acts through the admin API',
    ]);
    expectOk(
      await run({
        config: `${BASE}dashboard:\n  enabled: true\ngovernance:\n  enabled: true\n  admin_token: adm\n`,
      }),
      1,
      0,
    );
  });

  test('disabled: the block is accepted and does nothing', async () => {
    const off = await run({ config: `${BASE}governance: {enabled: false}\n` });
    expectOk(off, 1, 0);
    assert.deepEqual([off.warnings, off.errors], [[], []]);
    const half = await run({ config: `${BASE}governance: {admin_token: adm-zq82}\n` });
    expectOk(half, 1, 0);
    assert.deepEqual(half.warnings, [
      'governance.enabled is not true: governance is off and the other governance keys have no effect',
    ]);
  });
});

describe(
  'observability: sinks pass their URL guards or stay off, startup continues (G-OBS-31/32/41)',
  CONCURRENT,
  () => {
    const OBS = (lines: string) => `${BASE}observability:\n${lines}`;

    test('valid sinks, a request-log file and response headers are accepted without a word', async () => {
      const r = await run({
        config: OBS(
          '  otlp_endpoint: "http://127.0.0.1:4318/v1/traces"\n  request_log_webhook_url: "https://logs.example.com/busbar"\n  request_log_file: requests.jsonl\n  response_headers: true\n',
        ),
      });
      expectOk(r, 1, 0);
      assert.deepEqual([r.warnings, r.errors], [[], []]);
      const https = await run({
        config: OBS('  otlp_endpoint: "https://collector.example.com/v1/traces"\n'),
      });
      expectOk(https, 1, 0);
      assert.deepEqual(https.errors, []);
    });

    test('OTLP: internal hosts except loopback are refused, plain http only to loopback', async () => {
      for (const [url, why] of [
        ['http://10.0.0.5:4318/v1/traces', "host '10.0.0.5' is an internal address"],
        ['https://169.254.169.254/v1/traces', "host '169.254.169.254' is an internal address"],
        [
          'https://metadata.google.internal./v1/traces',
          "host 'metadata.google.internal' is an internal address",
        ],
        [
          'http://collector.example.com/v1/traces',
          'plain http is allowed only for a loopback host; use https',
        ],
        ['ftp://collector.example.com/', 'scheme must be http or https'],
      ]) {
        const r = await run({ config: OBS(`  otlp_endpoint: "${url}"\n`) });
        expectOk(r, 1, 0);
        assert.deepEqual(r.errors, [`observability.otlp_endpoint '${url}': ${why}; trace export is off`]);
      }
    });

    test('the request-log webhook: https only, and no internal host, loopback included', async () => {
      for (const [url, why] of [
        ['http://logs.example.com/busbar', 'scheme must be https'],
        ['https://127.0.0.1/busbar', "host '127.0.0.1' is an internal address"],
        ['https://localhost./busbar', "host 'localhost' is an internal address"],
        ['https://[::ffff:10.1.2.3]/busbar', "host '::ffff:10.1.2.3' is an internal address"],
      ]) {
        const r = await run({ config: OBS(`  request_log_webhook_url: "${url}"\n`) });
        expectOk(r, 1, 0);
        assert.deepEqual(r.errors, [
          `observability.request_log_webhook_url '${url}': ${why}; the request-log webhook is off`,
        ]);
      }
    });

    test('credentials in an OTLP URL are never printed', async () => {
      const r = await run({
        config: OBS('  otlp_endpoint: "http://user:s3cr3t-pw@10.0.0.5:4318/v1/traces"\n'),
      });
      expectOk(r, 1, 0);
      assert.deepEqual(r.errors, [
        "observability.otlp_endpoint 'http://***@10.0.0.5:4318/v1/traces': host '10.0.0.5' is an internal address; trace export is off",
      ]);
      assert.ok(!r.stderr.includes('s3cr3t-pw'));
    });

    test('a wrong type is a config error', async () => {
      const r = await run({ config: OBS('  response_headers: sometimes\n') });
      assert.equal(r.status, 1, r.stderr);
      assert.ok(
        r.errors.some((e) => e.includes('observability.response_headers')),
        r.stderr,
      );
    });
  },
);

describe('keys of features not available yet are errors, one per key', CONCURRENT, () => {
  test('pools: every route and policy key of the reference format is accepted', async () => {
    const native = ['native', 'cheapest', 'fastest', 'least_busy', 'usage'];
    const nativePools = native
      .map(
        (r) =>
          `  ${r}-pool: {members: [{target: gpt, cost_per_mtok: 2.5}], route: ${r}${r === 'native' ? ', policy: {name: fastest}' : ''}}\n`,
      )
      .join('');
    expectOk(await run({ config: `${BASE}pools:\n${nativePools}` }), 1, native.length);
    const weighted = await run({
      config: `${BASE}pools:\n  p: {members: [{target: gpt}], route: weighted}\n`,
    });
    expectOk(weighted, 1, 1);
    assert.deepEqual(weighted.warnings, []);
  });

  test('max_requests with workers > 1; unlimited budgets and workers: 1 are fine', async () => {
    const models = `models:\n  gpt: {provider: openai, max_concurrent: 4, max_requests: 100}\n  free: {provider: openai, max_concurrent: 4, max_requests: -1}\n`;
    expectErrors(await run({ config: `${AUTH}${PROVIDERS}${models}workers: 3\n` }), [
      `models.gpt.max_requests: max_requests with workers > 1 is ${NOT_YET}: each of the 3 worker processes would keep its own budget, admitting up to 3× the limit; remove max_requests or set workers: 1`,
    ]);
    expectOk(await run({ config: `${AUTH}${PROVIDERS}${models}workers: 1\n` }), 2, 0);
    const many = await run({
      config: `${AUTH}${PROVIDERS}models:\n  free: {provider: openai, max_concurrent: 4, max_requests: -1}\nworkers: 2\n`,
    });
    expectOk(many, 1, 0);
    assert.deepEqual(many.warnings, [
      'workers is 2: each worker process keeps its own max_concurrent permits, so a model admits up to 2 × max_concurrent requests in flight',
    ]);
  });

  test('they lead the collected validation errors, all printed together', async () => {
    const r = await run({
      config: `${AUTH}${PROVIDERS}models:\n  gpt: {provider: openai, max_concurrent: 0, max_requests: 5}\nworkers: 2\n`,
    });
    expectErrors(r, [
      `models.gpt.max_requests: max_requests with workers > 1 is ${NOT_YET}: each of the 2 worker processes would keep its own budget, admitting up to 2× the limit; remove max_requests or set workers: 1`,
      "model 'gpt' max_concurrent must be >= 1",
    ]);
  });
});

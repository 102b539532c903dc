// Files, interpolation, parsing, warnings and the resolved shape (§1.1–§1.14), plus the embedded default.

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { inspect } from 'node:util';
import { embeddedDefaultBanner } from '../../src/config/default.ts';
import { SHIPPED_CATALOG } from '../../src/config/files.ts';
import { ConfigError, loadGatewayConfig } from '../../src/config/index.ts';
import { interpolate } from '../../src/config/interpolate.ts';
import { parseListen } from '../../src/config/listen.ts';
import type { GatewayConfig } from '../../src/config/types.ts';
import { AUTH, BASE, CATALOG, CONCURRENT, MODELS, PROVIDERS, run, tempDir } from './helpers.ts';

interface Loaded {
  readonly config: GatewayConfig;
  readonly lines: string[];
}

/** In-process load with captured `[level] message` lines. */
function load(
  config: string | undefined,
  opts: { env?: NodeJS.ProcessEnv; providers?: string } = {},
): Loaded {
  const dir = tempDir();
  writeFileSync(join(dir, 'providers.yaml'), opts.providers ?? CATALOG);
  if (config !== undefined) writeFileSync(join(dir, 'config.yaml'), config);
  const lines: string[] = [];
  const loaded = loadGatewayConfig({
    validateOnly: true,
    cwd: dir,
    env: { T_OPENAI_KEY: 'sk-test', ...opts.env },
    emit: (level, message) => lines.push(`[${level}] ${message}`),
  });
  return { config: loaded, lines };
}

function loadError(config: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    load(config, { env });
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.lines;
  }
  assert.fail('expected a ConfigError');
}

describe('interpolation (G-CFG-5…8)', CONCURRENT, () => {
  test('G-CFG-6 unset variable, file-prefixed', async () => {
    const r = await run({ config: `${BASE}# \${BUSBAR_T_UNSET}\n` });
    assert.equal(r.status, 1);
    assert.deepEqual(r.errors, ['config.yaml: unset environment variable: BUSBAR_T_UNSET']);
    assert.ok(!r.stderr.includes('    at '));
  });

  test('G-CFG-6 unclosed reference', async () => {
    const r = await run({ config: `${BASE}listen: \${OOPS` });
    assert.equal(r.status, 1);
    assert.deepEqual(r.errors, ["config.yaml: unclosed variable reference starting at '${OOPS'"]);
  });

  test('G-CFG-6 empty name', async () => {
    const r = await run({ config: `${BASE}listen: "\${}"\n` });
    assert.equal(r.status, 1);
    assert.deepEqual(r.errors, [`config.yaml: empty variable name in \${}`]);
  });

  test('G-CFG-6 errors in the catalog are prefixed providers.yaml', async () => {
    const r = await run({ config: BASE, providers: `${CATALOG}# \${CATALOG_T_UNSET}\n` });
    assert.equal(r.status, 1);
    assert.deepEqual(r.errors, ['providers.yaml: unset environment variable: CATALOG_T_UNSET']);
  });

  test('G-CFG-7 a control character in a value is fatal and names variable and code point', async () => {
    const r = await run({
      config: `${BASE}listen: "\${NL_VALUE}"\n`,
      env: { NL_VALUE: '127.0.0.1:80\nauth: {mode: none}' },
    });
    assert.equal(r.status, 1);
    assert.deepEqual(r.errors, [
      "config.yaml: environment variable 'NL_VALUE' contains a control character (U+000A) that could inject YAML structure; remove it from the value",
    ]);
  });

  test('G-CFG-8 an empty-but-set variable substitutes the empty string; $NAME is verbatim', async () => {
    const r = await run({
      config: `${AUTH}providers:\n  openai: {api_key_env: T_OPENAI_KEY\${EMPTY_V}}\nmodels:\n  gpt: {provider: openai, max_concurrent: 4, tier$X: 1}\n`,
      env: { EMPTY_V: '' },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.warnings, ["config.yaml: unknown key 'models.gpt['tier$X']' ignored"]);
  });
});

describe('interpolate()', () => {
  const env = {
    A: 'x',
    B: `\${A}`,
    TAB: 'a\tb',
    LS: 'a\u2028b',
    C1: 'a\u0085b',
    PUNCT: ': / @ . - # " \' {}',
  };

  test('G-CFG-5 left to right, no re-scan, comments included', () => {
    assert.equal(interpolate(`# \${A} $A \${B}`, 'f', env), `# x $A \${A}`);
    assert.equal(interpolate('$', 'f', env), '$');
    assert.equal(interpolate(`\${PUNCT}`, 'f', env), `: / @ . - # " ' {}`);
  });

  test('G-CFG-7 every control class', () => {
    for (const [name, cp] of [
      ['TAB', '0009'],
      ['LS', '2028'],
      ['C1', '0085'],
    ]) {
      assert.throws(
        () => interpolate(`\${${name}}`, 'f.yaml', env),
        (err: unknown) =>
          err instanceof ConfigError &&
          err.lines[0]!.includes(`'${name}' contains a control character (U+${cp})`),
      );
    }
  });
});

describe('parsing and warnings (§1.3–§1.12)', CONCURRENT, () => {
  test('G-CFG-11 one warn per unknown key path', async () => {
    const r = await run({
      config: `${BASE}pools:\n  p:\n    members: [{target: gpt, wieght: 2}]\n    brekaer: {}\n    breaker: {trip: {modee: x}}\nextra_top: 1\n`,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.warnings, [
      "config.yaml: unknown key 'extra_top' ignored",
      "config.yaml: unknown key 'pools.p.brekaer' ignored",
      "config.yaml: unknown key 'pools.p.breaker.trip.modee' ignored",
      "config.yaml: unknown key 'pools.p.members[0].wieght' ignored",
    ]);
  });

  test('G-CFG-13 catalog entries not activated are never validated', async () => {
    // CATALOG's `unused` entry has an unknown protocol, http to a public host and a bad error class.
    const r = await run({ config: BASE });
    assert.equal(r.status, 0, r.stderr);
  });

  test('G-CFG-18 mode none with client_tokens; passthrough with a configured key', async () => {
    const none = await run({ config: `auth: {mode: none, client_tokens: [a]}\n${PROVIDERS}${MODELS}` });
    assert.equal(none.status, 0, none.stderr);
    assert.ok(none.warnings.includes('auth.mode is none: auth.client_tokens has no effect'));
    const pass = await run({ config: `auth: {mode: passthrough}\n${PROVIDERS}${MODELS}` });
    assert.equal(pass.status, 0, pass.stderr);
    assert.deepEqual(pass.warnings, [
      "auth.mode is passthrough and provider openai also has a key in T_OPENAI_KEY: callers' credentials are forwarded upstream while this key stays loaded (health probes use it); remove it unless intended",
    ]);
    assert.deepEqual(pass.errors, []);
    // passthrough admits every request too: a token list there is not protection.
    const listed = await run({ config: `auth: {mode: passthrough, token: a}\n${PROVIDERS}${MODELS}` });
    assert.equal(listed.status, 0, listed.stderr);
    assert.ok(listed.warnings.includes('auth.mode is passthrough: auth.client_tokens has no effect'));
  });

  test('G-CFG-19 governance: {enabled: false} is accepted and never hides the open-relay banner', async () => {
    const r = await run({
      config: `auth: {mode: none, client_tokens: [a]}\n${PROVIDERS}${MODELS}governance: {enabled: false}\n`,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.errors, [
      'auth is DISABLED (auth.mode=none) — busbar is running as an OPEN RELAY; do not run this in production',
    ]);
    assert.deepEqual(r.warnings, ['auth.mode is none: auth.client_tokens has no effect']);
    assert.ok(!/governance|virtual key/.test(r.stderr), r.stderr);
  });

  test('G-CFG-19 explicit mode none prints the open-relay banner at error level', async () => {
    const r = await run({
      config: `auth: {mode: none}\n${PROVIDERS}${MODELS}`,
      env: { BUSBAR_LOG: 'error' },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.errors, [
      'auth is DISABLED (auth.mode=none) — busbar is running as an OPEN RELAY; do not run this in production',
    ]);
    assert.deepEqual(r.warnings, [], 'BUSBAR_LOG=error hides warnings, never the banner');
  });

  test('G-CFG-19 no auth block prints the variant banner', async () => {
    const r = await run({ config: `${PROVIDERS}${MODELS}` });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.errors, [
      'no auth: block found in config.yaml — auth is DISABLED and busbar is running as an OPEN RELAY; add an auth: block with mode: token (and client_tokens) before running this in production',
    ]);
  });

  test('§1.7 empty key variable, inline api_key; §1.6 legacy token discarded', async () => {
    const r = await run({
      config: `auth: {mode: token, client_tokens: [a], token: b}\nproviders:\n  openai: {api_key_env: NOT_SET_KEY_VAR, api_key: sk-inline}\n${MODELS}`,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.warnings, [
      'provider openai has an inline api_key: inline keys are unsupported and ignored; put the key in an environment variable and name it in api_key_env',
      'auth.token is deprecated and is discarded because auth.client_tokens is set',
      'provider openai key env NOT_SET_KEY_VAR empty',
    ]);
    assert.ok(!r.stderr.includes('sk-inline'), 'the inline key is never printed');
  });

  test('§1.9 drained members and heterogeneous pools warn; G-CFG-30 info lines', async () => {
    const r = await run({
      config: `${AUTH}providers:\n  openai: {api_key_env: T_OPENAI_KEY}\n  anthropic: {api_key_env: T_OPENAI_KEY}\nmodels:\n  gpt: {provider: openai, max_concurrent: 4}\n  claude: {provider: anthropic, max_concurrent: 2}\npools:\n  mix: {members: [{target: gpt}, {target: claude, weight: 0}]}\n`,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.warnings, [
      "pool 'mix' member 'claude' has weight 0: drained, never selected",
      "pool 'mix' is heterogeneous (anthropic+openai): cross-protocol hops only preserve what the translation layer models",
    ]);
    assert.deepEqual(r.infos, [
      'metadata protection: 11 hosts blocked (--print-metadata-blocklist to view)',
      '  model gpt via openai (https://api.openai.com) max 4',
      '  model claude via anthropic (https://api.anthropic.com) max 2',
      'busbar: 2 models, 1 pools',
      '  pool /mix = [gpt, claude] aggregate 6',
    ]);
  });
});

describe('file lookup (G-CFG-2a)', CONCURRENT, () => {
  test('G-CFG-2a ./config.yaml and ./providers.yaml are found in the working directory', async () => {
    const r = await run({ config: BASE, via: 'none' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'config OK: 1 models, 0 pools\n');
  });

  test('G-CFG-2a no deployment file → the embedded default', async () => {
    const r = await run({ via: 'none' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'config OK: 1 models, 0 pools\n');
    assert.equal(r.errors.length, 1);
    assert.match(r.errors[0]!, /EMBEDDED DEFAULT with auth DISABLED .* loopback \(127\.0\.0\.1\) only/);
  });

  test('G-CFG-2a --config wins over BUSBAR_CONFIG; an explicit missing path is fatal', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a.yaml'), BASE);
    writeFileSync(join(dir, 'p.yaml'), CATALOG);
    const lines: string[] = [];
    const opts = {
      validateOnly: true,
      cwd: dir,
      configPath: 'a.yaml',
      providersPath: 'p.yaml',
      env: { BUSBAR_CONFIG: '/nonexistent.yaml', BUSBAR_PROVIDERS: '/nonexistent.yaml', T_OPENAI_KEY: 'k' },
      emit: (_l: string, m: string) => lines.push(m),
    };
    assert.equal(loadGatewayConfig(opts).models.size, 1);
    assert.throws(
      () => loadGatewayConfig({ ...opts, configPath: 'missing.yaml' }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.lines[0] ===
          "cannot read config file 'missing.yaml': no such file or directory (set BUSBAR_CONFIG)",
    );
  });
});

describe('resolved configuration', () => {
  test('§1.5 defaults', () => {
    const { config } = load(`${PROVIDERS}${MODELS}`);
    assert.deepEqual(config.listen, { raw: '0.0.0.0:8080', host: '0.0.0.0', port: 8080 });
    assert.equal(config.tls, undefined);
    assert.deepEqual(config.auth, { mode: 'none', clientTokens: [], explicit: false });
    assert.equal(config.workers, 1);
    assert.equal(config.embeddedDefault, false);
    assert.deepEqual(config.security, {
      blockedMetadataHosts: [],
      allowMetadataHosts: [],
      allowAllMetadata: false,
    });
    const gpt = config.models.get('gpt')!;
    assert.equal(gpt.index, 0);
    assert.equal(gpt.maxRequests, -1);
    assert.equal(gpt.defaultMaxTokens, undefined);
    assert.equal(gpt.provider.apiKey, 'sk-test');
    assert.ok(Object.isFrozen(config) && Object.isFrozen(gpt) && Object.isFrozen(gpt.provider));
  });

  test('G-SEC-50 inspecting or serialising the config shows secrets as presence only', () => {
    const { config } = load(BASE, { env: { T_OPENAI_KEY: 'sk-very-secret' } });
    for (const text of [
      inspect(config, { depth: 10 }),
      JSON.stringify(config.providers.get('openai')),
      JSON.stringify(config.auth),
    ]) {
      assert.ok(!text.includes('sk-very-secret') && !text.includes('t0ken'), text);
    }
    assert.ok(inspect(config.providers.get('openai')).includes("apiKey: '<redacted>'"));
    assert.equal(config.providers.get('openai')!.apiKey, 'sk-very-secret');
    assert.deepEqual(config.auth.clientTokens, ['t0ken']);
  });

  test('§1.7 deployment overrides: scalars replace, error_map merges, health and allow list replace', () => {
    const providers = `openai:\n  protocol: openai\n  base_url: https://api.openai.com/\n  error_map: {a: billing, b: rate_limit}\n  health: {mode: active, interval_secs: 7}\n  allow_metadata_hosts: [x.example]\n`;
    const { config } = load(
      `providers:\n  openai:\n    api_key_env: T_OPENAI_KEY\n    base_url: https://proxy.example.com/openai//\n    path: /v1/chat?x=1\n    auth: api-key\n    error_map: {b: overloaded, c: context_length}\n    health: {mode: dead, timeout_secs: 0}\n    allow_metadata_hosts: []\n${MODELS}`,
      { providers },
    );
    const p = config.providers.get('openai')!;
    assert.equal(p.baseUrl, 'https://proxy.example.com/openai');
    assert.equal(p.path, '/v1/chat?x=1');
    assert.equal(p.auth, 'api-key');
    assert.deepEqual({ ...p.errorMap }, { a: 'billing', b: 'overloaded', c: 'context_length' });
    assert.equal(p.errorMap.constructor, undefined, 'error map lookups never reach Object.prototype');
    assert.deepEqual(p.health, { mode: 'dead', intervalSecs: 30, timeoutSecs: 1 });
    assert.deepEqual(p.allowMetadataHosts, []);
    assert.equal(p.apiKeyEnv, 'T_OPENAI_KEY');
  });

  test('§1.9 pool defaults, members, failover, on_exhausted, affinity and context_max', () => {
    const { config } = load(
      `${BASE}  gpt2: {provider: openai, max_concurrent: 1}\npools:
  plain: {members: [{target: gpt}]}
  tuned:
    members: [{target: gpt, context_max: 128000}, {target: gpt2, weight: 3}]
    route: weighted
    failover: {exclusions: [gpt2], cap: 0}
    on_exhausted: {action: least-bad}
    affinity: {header_name: X-Tenant}
  fb: {members: [{target: gpt}], on_exhausted: {action: "fallback_pool: plain"}, breaker: {trip: {mode: consecutive, n: 2}}}
`,
    );
    const plain = config.pools.get('plain')!;
    assert.deepEqual(plain.breaker, {
      baseCooldownSecs: 15,
      maxCooldownSecs: 120,
      trip: { mode: 'error_rate', windowS: 30, threshold: 0.5, minRequests: 5 },
    });
    assert.deepEqual(plain.failover, {
      deadlineSecs: 120,
      attemptTimeoutMs: undefined,
      cap: 3,
      exclusions: [],
    });
    assert.deepEqual(plain.onExhausted, { action: 'reject' });
    assert.equal(plain.affinityHeader, 'x-session-id');
    assert.deepEqual(plain.members, [
      { target: 'gpt', weight: 1, contextMax: undefined, costPerMtok: undefined, tier: undefined, tags: [] },
    ]);

    const tuned = config.pools.get('tuned')!;
    assert.deepEqual(tuned.members, [
      { target: 'gpt', weight: 1, contextMax: 128000, costPerMtok: undefined, tier: undefined, tags: [] },
      { target: 'gpt2', weight: 3, contextMax: undefined, costPerMtok: undefined, tier: undefined, tags: [] },
    ]);
    assert.deepEqual(tuned.failover, {
      deadlineSecs: 120,
      attemptTimeoutMs: undefined,
      cap: 0,
      exclusions: ['gpt2'],
    });
    assert.deepEqual(tuned.onExhausted, { action: 'least_bad' });
    assert.equal(tuned.affinityHeader, 'x-tenant');
    assert.equal(config.models.get('gpt')!.contextMax, 128000);
    assert.equal(config.models.get('gpt2')!.contextMax, undefined);

    const fb = config.pools.get('fb')!;
    assert.deepEqual(fb.onExhausted, { action: 'fallback_pool', pool: 'plain' });
    assert.deepEqual(fb.breaker.trip, { mode: 'consecutive', windowS: 30, n: 2, minRequests: 5 });
  });

  test('workers: integer or auto; more than one warns that max_concurrent is per process', () => {
    const three = load(`${BASE}workers: 3\n`);
    assert.equal(three.config.workers, 3);
    assert.ok(
      three.lines.includes(
        '[warn] workers is 3: each worker process keeps its own max_concurrent permits, so a model admits up to 3 × max_concurrent requests in flight',
      ),
      three.lines.join('\n'),
    );
    assert.ok(!load(`${BASE}workers: 1\n`).lines.some((l) => l.includes('workers is')));
    assert.ok(load(`${BASE}workers: auto\n`).config.workers >= 1);
    assert.deepEqual(loadError(`${BASE}workers: 0\n`), [
      "config.yaml: invalid YAML: workers: expected an integer >= 1 or 'auto'",
    ]);
  });

  test('G-CFG-15 listen forms', () => {
    assert.deepEqual(parseListen('127.0.0.1:9000'), { raw: '127.0.0.1:9000', host: '127.0.0.1', port: 9000 });
    assert.deepEqual(parseListen('[::1]:8443'), { raw: '[::1]:8443', host: '::1', port: 8443 });
    assert.deepEqual(parseListen('localhost'), { raw: 'localhost', host: 'localhost', port: 8080 });
    assert.deepEqual(parseListen(':7000'), { raw: ':7000', host: '0.0.0.0', port: 7000 });
    assert.deepEqual(parseListen('::'), { raw: '::', host: '::', port: 8080 });
    for (const bad of ['host:port', '1.2.3.4:70000', '[::1', 'a b:80', ''])
      assert.equal(parseListen(bad), undefined, bad);
  });

  test('G-TLS-4 a matching cert/key pair (and CA bundle) passes; a foreign key does not', () => {
    const fx = (name: string) => resolve(import.meta.dirname, 'fixtures', name);
    const tls = `tls: {cert_file: ${fx('cert.pem')}, key_file: ${fx('key.pem')}, client_ca_file: ${fx('cert.pem')}}\n`;
    assert.deepEqual(load(`${BASE}${tls}`).config.tls, {
      certFile: fx('cert.pem'),
      keyFile: fx('key.pem'),
      clientCaFile: fx('cert.pem'),
    });
    assert.deepEqual(
      loadError(`${BASE}tls: {cert_file: ${fx('cert.pem')}, key_file: ${fx('other-key.pem')}}\n`),
      [
        `TLS configuration error: TLS cert/key are not a valid pair (cert_file '${fx('cert.pem')}', key_file '${fx('other-key.pem')}'): the private key does not match the certificate`,
      ],
    );
  });

  test('G-CFG-2a/G-CLI-6 TLS material is checked in validate mode', () => {
    const dir = tempDir();
    const cert = join(dir, 'cert.pem');
    writeFileSync(cert, 'not a pem');
    assert.deepEqual(loadError(`${BASE}tls: {cert_file: ${cert}, key_file: ${cert}}\n`), [
      `TLS configuration error: TLS cert_file '${cert}' contains no certificates (expected PEM)`,
    ]);
    assert.deepEqual(loadError(`${BASE}tls: {cert_file: ${cert}}\n`), [
      "config.yaml: invalid YAML: tls: missing required key 'key_file'",
    ]);
  });
});

describe('shipped catalog and embedded default', () => {
  test('G-CFG-14 the shipped catalog holds every Appendix C entry and validates when all are activated', () => {
    const names = [
      'anthropic',
      'z.ai',
      'openai',
      'groq',
      'zai-api',
      'together',
      'fireworks',
      'deepseek',
      'mistral',
      'xai',
      'openrouter',
      'cerebras',
      'deepinfra',
      'moonshot',
      'meta-llama',
      'nvidia-nim',
      'sambanova',
      'hyperbolic',
      'novita',
      'nebius',
      'lambda',
      'featherless',
      'friendliai',
      'scaleway',
      'ovhcloud',
      'nscale',
      'gmi',
      'baseten',
      'chutes',
      'dashscope',
      'minimax',
      'sarvam',
      'aimlapi',
      'cometapi',
      'nano-gpt',
      'publicai',
      'synthetic',
      'wandb',
      'responses',
      'gemini',
      'bedrock',
      'cohere',
    ];
    const providers = names.map((n) => `  "${n}": {api_key_env: T_OPENAI_KEY}\n`).join('');
    const models = names.map((n, i) => `  m${i}: {provider: "${n}", max_concurrent: 1}\n`).join('');
    const { config } = load(`${AUTH}providers:\n${providers}models:\n${models}`, {
      providers: readFileSync(SHIPPED_CATALOG, 'utf8'),
    });
    assert.equal(config.providers.size, 42);
    const p = (n: string) => config.providers.get(n)!;
    assert.deepEqual(
      { ...p('openai').errorMap },
      { insufficient_quota: 'billing', rate_limit_exceeded: 'rate_limit' },
    );
    assert.deepEqual({ ...p('z.ai').errorMap }, { '1113': 'billing', '1302': 'rate_limit' });
    assert.deepEqual({ ...p('zai-api').errorMap }, { '1113': 'billing', '1302': 'rate_limit' });
    assert.equal(p('zai-api').path, '/chat/completions');
    assert.deepEqual({ ...p('gemini').errorMap }, { RESOURCE_EXHAUSTED: 'rate_limit' });
    assert.deepEqual(
      { ...p('bedrock').errorMap },
      {
        ThrottlingException: 'rate_limit',
        ServiceQuotaExceededException: 'billing',
      },
    );
    assert.equal(p('bedrock').protocol, 'bedrock');
    assert.equal(p('responses').protocol, 'responses');
    assert.equal(p('cohere').baseUrl, 'https://api.cohere.com');
    assert.equal(p('deepinfra').baseUrl, 'https://api.deepinfra.com/v1/openai');
    const text = readFileSync(SHIPPED_CATALOG, 'utf8');
    assert.match(text, /^# +auth: api-key$/m, 'the Azure template ships commented out');
    assert.match(text, /YOUR-RESOURCE\.openai\.azure\.com/);
    assert.equal(SHIPPED_CATALOG, resolve(import.meta.dirname, '../../providers.yaml'));
  });

  test('config.example.yaml validates against the shipped catalog', () => {
    const lines: string[] = [];
    const config = loadGatewayConfig({
      validateOnly: true,
      configPath: resolve(import.meta.dirname, '../../config.example.yaml'),
      providersPath: SHIPPED_CATALOG,
      cwd: tempDir(),
      env: {
        BUSBAR_CLIENT_TOKEN: 'tok',
        OPENAI_API_KEY: 'k',
        ANTHROPIC_API_KEY: 'k',
      },
      emit: (level, m) => lines.push(`[${level}] ${m}`),
    });
    assert.deepEqual([config.models.size, config.pools.size], [5, 2]);
    assert.ok(!lines.some((l) => l.startsWith('[error]') || l.includes('unknown key')), lines.join('\n'));
  });

  test('G-CFG-2a embedded default: loopback, no auth, demo plus one model per set key', () => {
    const dir = tempDir();
    const lines: string[] = [];
    const config = loadGatewayConfig({
      validateOnly: true,
      cwd: dir,
      env: {
        OPENAI_API_KEY: 'sk-o',
        ANTHROPIC_API_KEY: '  ',
        AWS_ACCESS_KEY_ID: 'AKID',
        AWS_SECRET_ACCESS_KEY: 'SECRET',
        AWS_SESSION_TOKEN: 'TOK',
        AWS_REGION: 'eu-west-1',
        BUSBAR_PROVIDERS: SHIPPED_CATALOG,
      },
      emit: (level, m) => lines.push(`[${level}] ${m}`),
    });
    assert.equal(config.embeddedDefault, true);
    assert.deepEqual(config.listen, { raw: '127.0.0.1:8080', host: '127.0.0.1', port: 8080 });
    assert.deepEqual(config.auth, { mode: 'none', clientTokens: [], explicit: false });
    assert.equal(config.pools.size, 0);
    assert.deepEqual(
      [...config.models.keys()],
      ['gpt-4o-mini', 'anthropic.claude-3-5-haiku-20241022-v1:0', 'demo'],
    );
    const bedrock = config.providers.get('bedrock')!;
    assert.equal(bedrock.baseUrl, 'https://bedrock-runtime.eu-west-1.amazonaws.com');
    assert.equal(bedrock.apiKey, 'AKID:SECRET:TOK');
    const demo = config.models.get('demo')!;
    assert.ok(demo.provider.inProcess !== undefined, 'answered in-process');
    assert.equal(demo.provider.protocol, 'openai');
    assert.equal(demo.provider.apiKey, '');
    assert.equal(demo.index, 2);
    assert.ok(!lines.some((l) => l.includes('sk-o') || l.includes('SECRET')), 'keys are never printed');
    assert.ok(lines.some((l) => l.startsWith('[error] no config file found: running the EMBEDDED DEFAULT')));

    const banner = embeddedDefaultBanner(config, 'http://127.0.0.1:8080/');
    const text = banner.join('\n');
    for (const path of [
      '/v1/chat/completions',
      '/v1/responses',
      '/demo/v1/messages',
      '/v1beta/models/demo:generateContent',
      '/v2/chat',
      '/model/demo/converse',
    ]) {
      assert.ok(text.includes(`curl -s http://127.0.0.1:8080${path} `), path);
    }
    assert.ok(banner.some((l) => /^ {2}gpt-4o-mini +openai \(https:\/\/api\.openai\.com\)$/.test(l)));
    assert.ok(text.includes('ANTHROPIC_API_KEY'), 'lists the variables that would add models');
    for (const l of banner.filter((x) => x.includes('curl'))) {
      const body = /-d '(.*)'$/.exec(l)![1]!;
      JSON.parse(body);
    }
  });
});

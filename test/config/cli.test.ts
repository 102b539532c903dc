// Command line (§1.16): the flags, their output and exit codes, and parseCli's result shape.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import pkg from '../../package.json' with { type: 'json' };
import { parseCli, USAGE, versionLine } from '../../src/cli.ts';
import { helpText } from '../../src/help.ts';
import { BUILTIN_METADATA_HOSTS } from '../../src/net/ssrf.ts';
import { BASE, BIN, CONCURRENT, run } from './helpers.ts';

/** A config that would fail to load: proves a flag never touched files or the environment. */
const BROKEN = { BUSBAR_CONFIG: '/nonexistent/config.yaml', BUSBAR_PROVIDERS: '/nonexistent/providers.yaml' };

describe('busbar flags (child process)', CONCURRENT, () => {
  for (const flag of ['--version', '-V']) {
    test(`G-CLI-3 ${flag} prints busbar <version> without touching files`, async () => {
      const r = await run({ args: [flag], env: BROKEN });
      assert.equal(r.status, 0);
      assert.equal(r.stdout, `busbar ${pkg.version}\n`);
      assert.equal(r.stderr, '');
    });
  }

  for (const flag of ['--help', '-h']) {
    test(`G-CLI-4 ${flag} prints usage without touching files`, async () => {
      const r = await run({ args: [flag], env: BROKEN });
      assert.equal(r.status, 0);
      assert.equal(r.stderr, '');
      assert.equal(r.stdout, helpText());
    });
  }

  test('G-CLI-5 --print-metadata-blocklist: built-ins then security.blocked_metadata_hosts', async () => {
    const r = await run({
      args: ['--print-metadata-blocklist'],
      config: `${BASE}security: {blocked_metadata_hosts: [metadata.corp.example, 10.9.9.9]}\n`,
    });
    assert.equal(r.status, 0);
    assert.equal(r.stdout, [...BUILTIN_METADATA_HOSTS, 'metadata.corp.example', '10.9.9.9', ''].join('\n'));
  });

  test('G-CLI-5 --print-metadata-blocklist never fails: broken config → built-ins only', async () => {
    const r = await run({ args: ['--print-metadata-blocklist'], config: `security: \${NOT_SET_ANYWHERE}\n` });
    assert.equal(r.status, 0);
    assert.equal(r.stdout, [...BUILTIN_METADATA_HOSTS, ''].join('\n'));
    const missing = await run({ args: ['--print-metadata-blocklist'], env: BROKEN });
    assert.equal(missing.status, 0);
    assert.equal(missing.stdout, [...BUILTIN_METADATA_HOSTS, ''].join('\n'));
  });

  test('G-CLI-6 --validate prints warnings and `config OK: <n> models, <m> pools`', async () => {
    const r = await run({ config: `${BASE}pools:\n  p: {members: [{target: gpt}]}\nbogus_key: 1\n` });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'config OK: 1 models, 1 pools\n');
    assert.deepEqual(r.warnings, ["config.yaml: unknown key 'bogus_key' ignored"]);
    assert.deepEqual(r.errors, []);
  });

  for (const arg of ['--bogus', 'validate', '-v', 'serve']) {
    test(`G-CLI-7 unrecognized first argument '${arg}' exits 2`, async () => {
      const r = await run({ args: [arg], env: BROKEN });
      assert.equal(r.status, 2);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr, `busbar: unrecognized argument '${arg}'. Try 'busbar --help'.\n`);
    });
  }

  test('the operator report: unbuilt features fail startup, one [error] per key, no false claim', async () => {
    // Governance on with an admin token, auth none, a cheapest pool and an OTLP endpoint: this used
    // to start, claim governance and virtual keys, and serve anonymous requests by plain weight.
    // Governance is built now; the rest still stops startup before anything is claimed.
    const r = await run({
      entry: BIN,
      args: [],
      config: [
        'listen: 127.0.0.1:0',
        'auth: {mode: none}',
        'providers:\n  openai: {api_key_env: T_OPENAI_KEY}',
        'models:\n  gpt: {provider: openai, max_concurrent: 4, max_requests: 100}',
        'workers: 2',
        'governance:\n  enabled: true\n  admin_token: adm-secret',
        '',
      ].join('\n'),
    });
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stdout, '');
    assert.ok(!/^\s+at /m.test(r.stderr), `stack trace on stderr:\n${r.stderr}`);
    const notYet = 'not available yet in this version of busbar';
    assert.deepEqual(
      r.errors.map((e) => e.slice(0, e.indexOf(':'))),
      ['models.gpt.max_requests'],
    );
    for (const e of r.errors) assert.ok(e.includes(notYet), e);
    // Every other line: no claim that governance, virtual keys or a listener are in force.
    const rest = r.stderr.split('\n').filter((l) => !l.includes(notYet));
    assert.deepEqual(rest, [`[info] busbar starting (version ${pkg.version})`, '']);
    assert.ok(!/governance|virtual key|supersedes|listening/i.test(rest.join('\n')), r.stderr);
    assert.ok(!r.stderr.includes('adm-secret'), 'the admin token is never printed');
  });

  test('G-CLI-1 only the first argument is inspected', async () => {
    const r = await run({ args: ['--version', '--bogus', 'extra'], env: BROKEN });
    assert.equal(r.status, 0);
    assert.equal(r.stdout, `busbar ${pkg.version}\n`);
  });
});

describe('parseCli', () => {
  test('G-CLI-2 no argument → serve', () => {
    assert.deepEqual(parseCli([]), { kind: 'serve' });
  });

  test('G-CLI-3/4/5/6 the recognised flags', () => {
    assert.deepEqual(parseCli(['--help']), { kind: 'help' });
    assert.deepEqual(parseCli(['-h']), { kind: 'help' });
    assert.deepEqual(parseCli(['--version']), { kind: 'version' });
    assert.deepEqual(parseCli(['-V']), { kind: 'version' });
    assert.deepEqual(parseCli(['--validate']), { kind: 'validate' });
    assert.deepEqual(parseCli(['--print-metadata-blocklist']), { kind: 'print-metadata-blocklist' });
  });

  test('G-CLI-7 anything else is unknown', () => {
    assert.deepEqual(parseCli(['--nope', '--validate']), { kind: 'unknown', arg: '--nope' });
    assert.deepEqual(parseCli(['-hv']), { kind: 'unknown', arg: '-hv' });
  });

  test('G-CLI-1 arguments after a recognised flag are ignored', () => {
    assert.deepEqual(parseCli(['--validate', '--nope', 'x']), { kind: 'validate' });
  });

  test('G-CFG-2a --config / --providers may precede (or follow) the command', () => {
    assert.deepEqual(parseCli(['--config', 'x.yaml', '--validate']), {
      kind: 'validate',
      configPath: 'x.yaml',
    });
    assert.deepEqual(parseCli(['--config', 'x.yaml']), { kind: 'serve', configPath: 'x.yaml' });
    assert.deepEqual(parseCli(['--providers=p.yaml', '--config=c.yaml']), {
      kind: 'serve',
      configPath: 'c.yaml',
      providersPath: 'p.yaml',
    });
    assert.deepEqual(parseCli(['--validate', '--config', 'x.yaml', '--providers', 'p.yaml']), {
      kind: 'validate',
      configPath: 'x.yaml',
      providersPath: 'p.yaml',
    });
    assert.deepEqual(parseCli(['--config', 'x.yaml', '--bogus']), {
      kind: 'unknown',
      arg: '--bogus',
      configPath: 'x.yaml',
    });
  });

  test('G-CFG-2a a path option without its path is unknown', () => {
    assert.deepEqual(parseCli(['--config']), { kind: 'unknown', arg: '--config' });
    assert.deepEqual(parseCli(['--providers=']), { kind: 'unknown', arg: '--providers=' });
  });

  test('G-CLI-3 versionLine', () => {
    assert.equal(versionLine(), `busbar ${pkg.version}`);
  });

  test('G-CLI-4 USAGE lists the forms, the environment and the endpoint table', () => {
    for (const needle of [
      'busbar --help',
      'busbar --version',
      'busbar --print-metadata-blocklist',
      'busbar --validate',
      'BUSBAR_PROVIDERS',
      'BUSBAR_CONFIG',
      'BUSBAR_LOG',
      '/etc/busbar/config.yaml',
      '/etc/busbar/providers.yaml',
      '/{name}/v1/messages',
      '/{provider}/{model}/v1/messages',
      '/v1/chat/completions',
      '/v1/responses',
      '/v2/chat',
      '/v1beta/models/{model}:generateContent',
      '/model/{modelId}/converse',
      '/model/{modelId}/converse-stream',
      '/healthz',
      '/stats',
    ]) {
      assert.ok(helpText().includes(needle), needle);
    }
  });

  test('USAGE lists the gateway endpoints that exist', () => {
    for (const present of ['/healthz', '/stats', '/metrics']) assert.ok(USAGE.includes(present), present);
  });
});

// Reloading the configuration without a restart (issue 16): a changed file, SIGHUP and the admin
// call each swap in the new config; requests already admitted (500 open streams) finish on the old
// one and none fails; breakers keep what they learned by model identity; an invalid edit leaves the
// old config serving with one clear log line; a section only a restart applies is refused.

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { Agent } from 'undici';
import { type Gateway, startGateway } from '../support/gateway-process.ts';
import { admin, governanceYaml, mintKey, tempDbPath } from '../support/governance.ts';
import { type MockUpstream, startMockUpstream } from '../support/mock-upstream.ts';

const KEY_ENV = 'BUSBAR_TEST_RELOAD_KEY';

/** A deployment over one OpenAI-protocol mock: `models` name → extra fields, pool `p` members → weight. */
function configYaml(models: readonly string[], members: Record<string, number>, more = ''): string {
  return [
    'listen: 127.0.0.1:0',
    'auth: {mode: none}',
    'providers:',
    `  mock: {api_key_env: ${KEY_ENV}}`,
    'models:',
    ...models.map((m) => `  ${m}: {provider: mock, max_concurrent: 1000}`),
    'pools:',
    '  p:',
    '    members:',
    ...Object.entries(members).map(([m, w]) => `      - {target: ${m}, weight: ${w}}`),
    '  q:',
    '    breaker: {base_cooldown_secs: 120, max_cooldown_secs: 120, trip: {mode: consecutive, n: 1}}',
    '    failover: {cap: 0}',
    '    members:',
    `      - {target: ${models.includes('m-x') ? 'm-x' : 'm-y'}}`,
    more,
  ].join('\n');
}

const CATALOG = (url: string) => `mock:\n  protocol: openai\n  base_url: ${url}\n`;

let mock: MockUpstream;
let gw: Gateway;
const agent = new Agent({ connections: 1024 });

before(async () => {
  mock = await startMockUpstream();
  gw = await startGateway({
    configYaml: configYaml(['m-a', 'm-b', 'm-x'], { 'm-a': 1, 'm-b': 1 }),
    providersYaml: CATALOG(mock.url),
    env: { [KEY_ENV]: 'sk-upstream' },
  });
});
after(async () => {
  await gw?.stop();
  await mock?.close();
  await agent.close();
});

async function chat(model: string, stream: boolean): Promise<{ status: number; text: string }> {
  const r = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, stream, messages: [{ role: 'user', content: 'hi' }] }),
    dispatcher: agent,
  } as RequestInit);
  return { status: r.status, text: await r.text() };
}

async function stats(): Promise<{
  config: { hash: string };
  lanes: { model: string; cells: Record<string, { state: string; cooldown_remaining_s: number }> }[];
}> {
  const r = await fetch(`${gw.url}/stats`);
  return (await r.json()) as Awaited<ReturnType<typeof stats>>;
}

async function until(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > ms) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const reloads = (): number =>
  gw
    .stderr()
    .split('\n')
    .filter((l) => l.includes('reloaded at')).length;

test('a file edit under 500 open streams and steady load: zero failed or cut, new weights at once', async () => {
  const before = (await stats()).config.hash;
  // 500 streams held open: each answer's chunks come 400 ms apart (several seconds in all).
  mock.enqueue(...Array.from({ length: 500 }, () => ({ chunkDelayMs: 400 })));
  const seen = mock.requests.length;
  const streams = Array.from({ length: 500 }, () => chat('p', true));
  await until(() => mock.requests.length >= seen + 500, 10_000, 'streams open upstream');
  // Steady non-streaming load throughout.
  let loading = true;
  const steady: Promise<number[]> = Promise.all(
    Array.from({ length: 4 }, async () => {
      const statuses: number[] = [];
      while (loading) statuses.push((await chat('p', false)).status);
      return statuses;
    }),
  ).then((all) => all.flat());

  // Add m-c, remove m-b, reweight p: written in place, seen by the file watch.
  writeFileSync(gw.configFile!, configYaml(['m-a', 'm-c', 'm-x'], { 'm-a': 1, 'm-c': 3 }));
  await until(() => reloads() === 1, 5000, 'the reload');
  const after = (await stats()).config.hash;
  assert.notEqual(after, before);

  const answers = await Promise.all(streams);
  loading = false;
  const steadyStatuses = await steady;
  for (const a of answers) {
    assert.equal(a.status, 200);
    assert.match(a.text, /data: \[DONE\]\n\n$/);
  }
  assert.ok(steadyStatuses.length > 20, `only ${steadyStatuses.length} steady requests`);
  assert.deepEqual([...new Set(steadyStatuses)], [200]);

  // The next 1,000 picks follow the new weights: m-c three times as often as m-a, m-b never.
  const from = mock.requests.length;
  for (let i = 0; i < 1000; i++) assert.equal((await chat('p', false)).status, 200);
  const picked = mock.requests.slice(from).map((r) => r.model);
  const count = (m: string) => picked.filter((p) => p === m).length;
  assert.equal(count('m-b'), 0);
  assert.ok(count('m-c') >= 700 && count('m-c') <= 800, `m-c ${count('m-c')} of 1000`);
  assert.equal(count('m-a') + count('m-c'), 1000);
  // The removed model is gone from the lists.
  assert.equal((await chat('m-b', false)).status, 404);
});

test('SIGHUP: an open breaker stays open with its cooldown; a renamed model starts closed', async () => {
  mock.enqueue({ status: 500 });
  // The only member fails (no failover): the pool is exhausted and its breaker cell opens.
  assert.equal((await chat('q', false)).status, 503);
  const cellOf = async (model: string) => (await stats()).lanes.find((l) => l.model === model)?.cells.q;
  const open = await cellOf('m-x');
  assert.equal(open?.state, 'open');
  // An unrelated change (a new model), reloaded by SIGHUP: the cell is as it was.
  const n = reloads();
  writeFileSync(gw.configFile!, configYaml(['m-a', 'm-c', 'm-x', 'm-d'], { 'm-a': 1, 'm-c': 3 }));
  gw.child.kill('SIGHUP');
  await until(() => reloads() === n + 1, 5000, 'the SIGHUP reload');
  const still = await cellOf('m-x');
  assert.equal(still?.state, 'open');
  assert.ok(
    Math.abs(still!.cooldown_remaining_s - open!.cooldown_remaining_s) <= 2,
    JSON.stringify([open, still]),
  );
  assert.equal((await chat('q', false)).status, 503);
  // m-x renamed m-y: a new identity, a closed breaker, and the pool serves again.
  writeFileSync(gw.configFile!, configYaml(['m-a', 'm-c', 'm-y', 'm-d'], { 'm-a': 1, 'm-c': 3 }));
  gw.child.kill('SIGHUP');
  await until(() => reloads() === n + 2, 5000, 'the rename reload');
  assert.equal((await cellOf('m-y'))?.state ?? 'closed', 'closed');
  assert.equal((await chat('q', false)).status, 200);
});

test('invalid edits and restart-only changes leave the old config serving, with one log line each', async () => {
  const good = readFileSync(gw.configFile!, 'utf8');
  const hash = (await stats()).config.hash;
  const refusals = () =>
    gw
      .stderr()
      .split('\n')
      .filter((l) => l.includes('config reload refused')).length;
  const cases: [string, string, RegExp][] = [
    ['YAML syntax error', `${good}\n  bad: [unclosed\n`, /invalid YAML|YAML/],
    [
      'a key typo that leaves a member without a target',
      good.replace('- {target: m-a, weight: 1}', '- {targt: m-a, weight: 1}'),
      /target/,
    ],
    ['a bad URL', good, /base_url/],
    [
      'the listen port',
      good.replace('listen: 127.0.0.1:0', 'listen: 127.0.0.1:1'),
      /listen changed: .*restart/,
    ],
  ];
  for (const [what, text, expected] of cases) {
    const n = refusals();
    if (what === 'a bad URL')
      writeFileSync(gw.providersFile!, 'mock:\n  protocol: openai\n  base_url: "not a url"\n');
    else writeFileSync(gw.configFile!, text);
    await until(() => refusals() === n + 1, 5000, `the refusal of ${what}`);
    const line = gw
      .stderr()
      .split('\n')
      .filter((l) => l.includes('config reload refused'))
      .at(-1)!;
    assert.match(line, expected, what);
    assert.equal((await stats()).config.hash, hash, `${what}: the old config still serves`);
    assert.equal((await chat('p', false)).status, 200);
    writeFileSync(gw.providersFile!, CATALOG(mock.url));
    writeFileSync(gw.configFile!, good);
    await new Promise((r) => setTimeout(r, 500));
  }
});

test('POST /admin/config/reload: 200 with the new hash, 400 with the errors, 401 without the token', async () => {
  const governed = await startGateway({
    configYaml: configYaml(['m-a', 'm-b', 'm-x'], { 'm-a': 1, 'm-b': 1 }, governanceYaml(tempDbPath())),
    providersYaml: CATALOG(mock.url),
    env: { [KEY_ENV]: 'sk-upstream' },
  });
  try {
    const { secret } = await mintKey(governed.url);
    const unchanged = await admin(governed.url, 'POST', '/admin/config/reload');
    assert.equal(unchanged.status, 200);
    assert.equal(unchanged.body.reloaded, false);
    writeFileSync(
      governed.configFile!,
      configYaml(['m-a', 'm-c', 'm-x'], { 'm-a': 1, 'm-c': 1 }, governanceYaml(tempDbPath())).replace(
        /db_path: .*/,
        readFileSync(governed.configFile!, 'utf8').match(/db_path: .*/)![0],
      ),
    );
    const done = await admin(governed.url, 'POST', '/admin/config/reload');
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.equal(done.body.reloaded, true);
    const r = await fetch(`${governed.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm-c', messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(r.status, 200);
    writeFileSync(governed.configFile!, 'listen: [not yaml');
    const refused = await admin(governed.url, 'POST', '/admin/config/reload');
    assert.equal(refused.status, 400);
    assert.equal(refused.body.reloaded, false);
    assert.ok(
      Array.isArray(refused.body.errors) && refused.body.errors.length > 0,
      JSON.stringify(refused.body),
    );
    const anonymous = await fetch(`${governed.url}/admin/config/reload`, { method: 'POST' });
    assert.equal(anonymous.status, 401);
  } finally {
    await governed.stop();
  }
});

test('governance prices reload (new requests pay them); the rest of governance needs a restart', async () => {
  const db = tempDbPath();
  const yaml = (more: string) =>
    configYaml(['m-a', 'm-b', 'm-x'], { 'm-a': 1, 'm-b': 1 }, governanceYaml(db, more));
  const governed = await startGateway({
    configYaml: yaml('price_per_request_cents: 1'),
    providersYaml: CATALOG(mock.url),
    env: { [KEY_ENV]: 'sk-upstream' },
  });
  try {
    const { id, secret } = await mintKey(governed.url);
    const call = () =>
      fetch(`${governed.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'm-a', messages: [{ role: 'user', content: 'hi' }] }),
      }).then((r) => r.text());
    await call();
    writeFileSync(governed.configFile!, yaml('price_per_request_cents: 5'));
    const priced = await admin(governed.url, 'POST', '/admin/config/reload');
    assert.equal(priced.status, 200, JSON.stringify(priced.body));
    await call();
    await new Promise((r) => setTimeout(r, 100));
    const usage = await admin(governed.url, 'GET', `/admin/keys/${id}/usage`);
    assert.equal(usage.body.spend_cents, 1 + 5);
    writeFileSync(
      governed.configFile!,
      yaml('price_per_request_cents: 5').replace(/admin_token: .*/, 'admin_token: another-token-1234'),
    );
    const refused = await admin(governed.url, 'POST', '/admin/config/reload');
    assert.equal(refused.status, 400);
    assert.match(
      String((refused.body.errors as string[])[0]),
      /governance \(other than its prices\) changed/,
    );
  } finally {
    await governed.stop();
  }
});

// Reloading under `workers: 2` (issue 16): the primary coordinates, so a changed file, SIGHUP or an
// admin call at either worker swaps both, none dropping a request; an invalid edit is refused by
// both, and both go on serving the old config.

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { onFreshConnection } from '../support/fresh-connection.ts';
import { type Gateway, startGateway } from '../support/gateway-process.ts';
import { ADMIN_TOKEN, admin, governanceYaml, mintKey, tempDbPath } from '../support/governance.ts';
import { type MockUpstream, startMockUpstream } from '../support/mock-upstream.ts';

const KEY_ENV = 'BUSBAR_TEST_RELOAD_KEY';
const DB = tempDbPath();

function configYaml(models: readonly string[], members: Record<string, number>): string {
  return [
    'listen: 127.0.0.1:0',
    'workers: 2',
    'providers:',
    `  mock: {api_key_env: ${KEY_ENV}}`,
    'models:',
    ...models.map((m) => `  ${m}: {provider: mock, max_concurrent: 1000}`),
    'pools:',
    '  p:',
    '    members:',
    ...Object.entries(members).map(([m, w]) => `      - {target: ${m}, weight: ${w}}`),
    governanceYaml(DB),
  ].join('\n');
}

let mock: MockUpstream;
let gw: Gateway;
let secret = '';

before(async () => {
  mock = await startMockUpstream();
  gw = await startGateway({
    configYaml: configYaml(['m-a', 'm-b'], { 'm-a': 1, 'm-b': 1 }),
    providersYaml: `mock:\n  protocol: openai\n  base_url: ${mock.url}\n`,
    env: { [KEY_ENV]: 'sk-upstream' },
  });
  secret = (await mintKey(gw.url)).secret;
});
after(async () => {
  await gw?.stop();
  await mock?.close();
});

/** A fresh connection per request, so the kernel spreads them over both workers. */
const fresh = (path: string, body?: unknown) => onFreshConnection(`${gw.url}${path}`, secret, body);

const chat = (model: string, stream = false) =>
  fresh('/v1/chat/completions', { model, stream, messages: [{ role: 'user', content: 'hi' }] });

/** The config hashes the workers answer /stats with, over many fresh connections. */
async function hashes(): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < 24; i++)
    seen.add((JSON.parse((await fresh('/stats')).text) as { config: { hash: string } }).config.hash);
  return seen;
}

test('an admin call at one worker reloads both; 500 open streams finish; the next picks use the new weights', async () => {
  const [before] = [...(await hashes())];
  mock.enqueue(...Array.from({ length: 500 }, () => ({ chunkDelayMs: 300 })));
  const seen = mock.requests.length;
  const streams = Array.from({ length: 500 }, () => chat('p', true));
  const start = Date.now();
  while (mock.requests.length < seen + 500 && Date.now() - start < 10_000)
    await new Promise((r) => setTimeout(r, 25));
  writeFileSync(gw.configFile!, configYaml(['m-a', 'm-c'], { 'm-a': 1, 'm-c': 3 }));
  const reload = await admin(gw.url, 'POST', '/admin/config/reload');
  assert.equal(reload.status, 200, JSON.stringify(reload.body));
  const after = await hashes();
  assert.equal(after.size, 1, 'every worker serves one config');
  assert.notEqual([...after][0], before);
  for (const a of await Promise.all(streams)) {
    assert.equal(a.status, 200);
    assert.match(a.text, /data: \[DONE\]\n\n$/);
  }
  const from = mock.requests.length;
  for (let i = 0; i < 200; i++) assert.equal((await chat('p')).status, 200);
  const picked = mock.requests.slice(from).map((r) => r.model);
  assert.equal(picked.filter((m) => m === 'm-b').length, 0);
  const c = picked.filter((m) => m === 'm-c').length;
  assert.ok(c >= 130 && c <= 170, `m-c ${c} of 200`);
});

test('an invalid edit: both workers refuse it (400 with the errors) and keep serving', async () => {
  const good = readFileSync(gw.configFile!, 'utf8');
  const [current] = [...(await hashes())];
  writeFileSync(gw.configFile!, good.replace('- {target: m-a, weight: 1}', '- {targt: m-a, weight: 1}'));
  const refused = await fetch(`${gw.url}/admin/config/reload`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  assert.equal(refused.status, 400);
  const body = (await refused.json()) as { errors: string[] };
  assert.ok(
    body.errors.some((e) => /target/.test(e)),
    JSON.stringify(body),
  );
  assert.deepEqual(await hashes(), new Set([current]));
  assert.equal((await chat('p')).status, 200);
  writeFileSync(gw.configFile!, good);
});

test('SIGHUP to the primary reloads every worker', async () => {
  const good = readFileSync(gw.configFile!, 'utf8');
  const [before] = [...(await hashes())];
  writeFileSync(gw.configFile!, good.replace('weight: 3', 'weight: 2'));
  // The file watch may get there first; SIGHUP makes sure.
  gw.child.kill('SIGHUP');
  const start = Date.now();
  let seen = await hashes();
  while ((seen.size !== 1 || seen.has(before!)) && Date.now() - start < 5000) seen = await hashes();
  assert.equal(seen.size, 1);
  assert.ok(!seen.has(before!), 'both workers serve the new config');
  assert.match(gw.stderr(), /reloaded at \S+ by every worker: 2 models, 1 pools/);
});

test('a worker replaced while the files do not load waits and retries; the others keep serving', async () => {
  const good = readFileSync(gw.configFile!, 'utf8');
  const replicas = async (): Promise<Set<string>> => {
    const seen = new Set<string>();
    for (let i = 0; i < 24; i++)
      seen.add((JSON.parse((await fresh('/stats')).text) as { replica: string }).replica);
    return seen;
  };
  const [victim] = [...(await replicas())];
  writeFileSync(gw.configFile!, 'listen: [not yaml');
  await new Promise((r) => setTimeout(r, 500));
  process.kill(Number(/-(\d+)-[0-9a-f]{6}$/.exec(victim!)![1]), 'SIGKILL');
  const start = Date.now();
  while (!/failed to start .*retrying in 1 s/.test(gw.stderr()) && Date.now() - start < 10_000)
    await new Promise((r) => setTimeout(r, 50));
  assert.match(gw.stderr(), /failed to start .*retrying in 1 s/);
  // The surviving worker serves meanwhile.
  for (let i = 0; i < 5; i++) assert.equal((await chat('p')).status, 200);
  writeFileSync(gw.configFile!, good);
  let seen = await replicas();
  while (seen.size < 2 && Date.now() - start < 20_000) seen = await replicas();
  assert.equal(seen.size, 2, 'a replacement worker serves again');
  assert.ok(!seen.has(victim!));
});

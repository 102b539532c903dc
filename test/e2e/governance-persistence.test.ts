// Governance state outlives the process: keys, spend and revocations survive a restart, and a
// `kill -9` in the middle of a load leaves a database that opens clean with every charge the
// clients were answered for.

import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { after, before, test } from 'node:test';
import { type Gateway, startGateway } from '../support/gateway-process.ts';
import { admin, governanceYaml, mintKey, tempDbPath } from '../support/governance.ts';
import { type MockUpstream, startMockUpstream } from '../support/mock-upstream.ts';
import { LANES, sixProvidersCatalog, sixProvidersConfig, sixProvidersEnv } from '../support/six-providers.ts';

let mock: MockUpstream;
before(async () => {
  mock = await startMockUpstream();
});
after(async () => {
  await mock?.close();
});

function governed(dbPath: string): Promise<Gateway> {
  return startGateway({
    configYaml: sixProvidersConfig(governanceYaml(dbPath)),
    providersYaml: sixProvidersCatalog(mock.url),
    env: sixProvidersEnv(),
  });
}

async function chat(gw: Gateway, secret: string): Promise<number> {
  const r = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: LANES.openai.pool, messages: [{ role: 'user', content: 'hi' }] }),
  });
  await r.text();
  return r.status;
}

test('keys, spend and revocations survive a restart', async () => {
  const db = tempDbPath();
  let gw = await governed(db);
  const kept = await mintKey(gw.url, { max_budget_cents: 3 });
  const revoked = await mintKey(gw.url);
  const disabled = await mintKey(gw.url);
  assert.equal(await chat(gw, kept.secret), 200);
  assert.equal(await chat(gw, kept.secret), 200);
  await admin(gw.url, 'DELETE', `/admin/keys/${revoked.id}`);
  await admin(gw.url, 'PATCH', `/admin/keys/${disabled.id}`, { enabled: false });
  assert.equal(await gw.stop(), 0);

  gw = await governed(db);
  try {
    assert.deepEqual((await admin(gw.url, 'GET', `/admin/keys/${kept.id}/usage`)).body, {
      id: kept.id,
      spend_cents: 2,
      tokens: 36,
      requests: 2,
    });
    assert.equal(await chat(gw, kept.secret), 200);
    assert.equal(await chat(gw, kept.secret), 429, 'the budget spent before the restart still counts');
    assert.equal(await chat(gw, revoked.secret), 401);
    assert.equal(await chat(gw, disabled.secret), 401);
  } finally {
    await gw.stop();
  }
});

test('kill -9 under load: the database opens clean and holds every charge a client was answered for', async () => {
  const db = tempDbPath();
  const gw = await governed(db);
  const key = await mintKey(gw.url);
  mock.configure({});
  let answered = 0;
  let stop = false;
  const worker = async (): Promise<void> => {
    while (!stop) {
      try {
        if ((await chat(gw, key.secret)) === 200) answered++;
      } catch {
        return; // the connection died with the process
      }
    }
  };
  const load = Array.from({ length: 16 }, worker);
  while (answered < 300) await new Promise((r) => setTimeout(r, 10));
  gw.child.kill('SIGKILL');
  stop = true;
  await Promise.all(load);
  await gw.stop();

  const check = new DatabaseSync(db);
  assert.equal(
    (check.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check,
    'ok',
  );
  const row = check
    .prepare('SELECT requests, spend_cents FROM usage_counters WHERE key_id = ?')
    .get(key.id) as {
    requests: number;
    spend_cents: number;
  };
  check.close();
  // Charged at admission, committed before the upstream was called: never fewer than answered.
  assert.ok(row.requests >= answered, `charged ${row.requests}, answered ${answered}`);
  assert.ok(row.requests <= answered + 16, `charged ${row.requests}, answered ${answered}`);
  assert.equal(row.spend_cents, row.requests);

  const again = await governed(db);
  try {
    assert.equal(await chat(again, key.secret), 200);
  } finally {
    await again.stop();
  }
});

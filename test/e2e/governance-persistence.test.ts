// Governance state outlives the process: keys, spend and revocations survive a restart, and a
// `kill -9` leaves a database that opens clean, holding every charge older than the spend book's
// write-behind interval (FLUSH_MS).

import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { after, before, test } from 'node:test';
import { FLUSH_MS } from '../../src/governance/spend.ts';
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

function charged(db: string, keyId: string): { requests: number; spend: number; integrity: string } {
  const check = new DatabaseSync(db);
  try {
    const integrity = (check.prepare('PRAGMA integrity_check').get() as { integrity_check: string })
      .integrity_check;
    const row = check
      .prepare('SELECT requests, spend_cents FROM usage_counters WHERE key_id = ?')
      .get(keyId) as { requests: number; spend_cents: number } | undefined;
    return { requests: row?.requests ?? 0, spend: row?.spend_cents ?? 0, integrity };
  } finally {
    check.close();
  }
}

test('kill -9: the database opens clean; charges older than the write-behind interval are all there', async () => {
  const db = tempDbPath();
  const gw = await governed(db);
  const key = await mintKey(gw.url);
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
  while (answered < 300) await new Promise((r) => setTimeout(r, 5));
  // Everything answered by now was admitted more than a flush interval before the kill.
  const settled = answered;
  await new Promise((r) => setTimeout(r, FLUSH_MS * 5));
  gw.child.kill('SIGKILL');
  stop = true;
  await Promise.all(load);
  await gw.stop();

  const after = charged(db, key.id);
  assert.equal(after.integrity, 'ok');
  assert.ok(after.requests >= settled, `charged ${after.requests}, answered ${settled} well before the kill`);
  assert.ok(after.requests <= answered + 16, `charged ${after.requests}, answered ${answered} in all`);
  assert.equal(after.spend, after.requests);

  const again = await governed(db);
  try {
    assert.equal(await chat(again, key.secret), 200);
  } finally {
    await again.stop();
  }
});

test('a quiet kill -9 loses nothing: every answered charge was written within the interval', async () => {
  const db = tempDbPath();
  const gw = await governed(db);
  const key = await mintKey(gw.url);
  const statuses = await Promise.all(Array.from({ length: 50 }, () => chat(gw, key.secret)));
  assert.ok(statuses.every((s) => s === 200));
  await new Promise((r) => setTimeout(r, FLUSH_MS * 5));
  gw.child.kill('SIGKILL');
  await gw.stop();
  assert.deepEqual(charged(db, key.id), { requests: 50, spend: 50, integrity: 'ok' });
});

// The governance store against a real SQLite file: the reference schema, the spend book's exact
// charges and floors and its write-behind, exclusive ownership, the legacy allowed_pools form, and
// one-transaction deletes.

import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { hashSecret, keyIdFor, newSecret, type VirtualKey } from '../../src/governance/keys.ts';
import { FLUSH_MS, SpendBook } from '../../src/governance/spend.ts';
import { GovernanceStore } from '../../src/governance/store.ts';

function dbFile(): string {
  return path.join(mkdtempSync(path.join(tmpdir(), 'busbar-store-')), 'gov.db');
}

function key(fields: Partial<VirtualKey> = {}): VirtualKey {
  const hash = hashSecret(newSecret());
  return {
    id: keyIdFor(hash),
    hash,
    name: 'k',
    allowed_pools: [],
    max_budget_cents: null,
    budget_period: 'total',
    rpm_limit: null,
    tpm_limit: null,
    enabled: true,
    created_at: 1_767_225_600,
    ...fields,
  };
}

test('opens a database the reference created (same tables, no user_version) and keeps its rows', () => {
  const file = dbFile();
  const ref = new DatabaseSync(file);
  ref.exec(`CREATE TABLE virtual_keys (id TEXT PRIMARY KEY, key_hash TEXT UNIQUE NOT NULL, name TEXT NOT NULL,
      allowed_pools TEXT NOT NULL DEFAULT '', max_budget_cents INTEGER NULL, budget_period TEXT NOT NULL DEFAULT 'total',
      rpm_limit INTEGER NULL, tpm_limit INTEGER NULL, enabled INTEGER NOT NULL DEFAULT 1, created_at INTEGER NOT NULL);
    CREATE TABLE aws_credentials (access_key_id TEXT PRIMARY KEY, key_id TEXT NOT NULL, secret_access_key TEXT NOT NULL);
    CREATE TABLE usage_counters (key_id TEXT NOT NULL, window_start INTEGER NOT NULL, spend_cents INTEGER NOT NULL DEFAULT 0,
      tokens INTEGER NOT NULL DEFAULT 0, requests INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (key_id, window_start));
    INSERT INTO virtual_keys VALUES ('vk_a', 'h1', 'legacy', 'fast, cheap', 100, 'weekly', NULL, NULL, 1, 1);
    INSERT INTO usage_counters VALUES ('vk_a', 0, -5, -1, -2);`);
  ref.close();
  const store = new GovernanceStore(file);
  const warnings: string[] = [];
  const { keys } = store.load((m) => warnings.push(m));
  assert.deepEqual(keys[0]?.allowed_pools, ['fast', 'cheap']);
  assert.equal(keys[0]?.budget_period, 'total');
  assert.equal(warnings.length, 1);
  assert.deepEqual(
    store.usage('vk_a', 0),
    { spend_cents: 0, tokens: 0, requests: 0 },
    'negative counters read as 0',
  );
  store.close();
  // Opening again runs no migration twice.
  new GovernanceStore(file).close();
  const check = new DatabaseSync(file);
  assert.equal((check.prepare('PRAGMA user_version').get() as { user_version: number }).user_version, 1);
  check.close();
});

test('spend book: the flat-fee charge never passes the cap, a refund never goes below zero', () => {
  const store = new GovernanceStore(dbFile());
  const book = new SpendBook(store);
  const k = key({ max_budget_cents: 5 });
  store.insert(k, undefined);
  const admitted = Array.from({ length: 10 }, () => book.charge(k.id, 0, 2, 5)).filter(Boolean).length;
  assert.equal(admitted, 2);
  assert.deepEqual(book.usage(k.id, 0), { spend_cents: 4, tokens: 0, requests: 2 });
  assert.equal(book.charge(k.id, 0, 6, 5), false, 'a fee above the cap is refused even on an empty window');
  assert.equal(book.charge(k.id, 60, 6, 5), false);
  for (let i = 0; i < 3; i++) book.refund(k.id, 0, 3);
  assert.deepEqual(book.usage(k.id, 0), { spend_cents: 0, tokens: 0, requests: 0 });
  book.addTokens(k.id, 0, 7, 1234);
  assert.equal(book.charge(k.id, 0, 0, 5), false, 'spend past the cap refuses even a zero fee');
  assert.equal(book.charge(k.id, 0, 1, null), true, 'an uncapped key is always charged');
  store.close();
});

test('spend book: changes reach the database within the flush interval and survive a reopen', async () => {
  const file = dbFile();
  const store = new GovernanceStore(file);
  const book = new SpendBook(store);
  const k = key();
  store.insert(k, undefined);
  book.charge(k.id, 0, 3, null);
  book.addTokens(k.id, 0, 2, 99);
  assert.deepEqual(store.usage(k.id, 0), { spend_cents: 0, tokens: 0, requests: 0 }, 'not yet written');
  await new Promise((resolve) => setTimeout(resolve, FLUSH_MS * 3));
  assert.deepEqual(store.usage(k.id, 0), { spend_cents: 5, tokens: 99, requests: 1 });
  store.close();
  const again = new GovernanceStore(file);
  assert.deepEqual(new SpendBook(again).usage(k.id, 0), { spend_cents: 5, tokens: 99, requests: 1 });
  again.close();
});

test('a second process cannot open a database another busbar owns', () => {
  const file = dbFile();
  const owner = new GovernanceStore(file);
  assert.throws(() => new GovernanceStore(file), /in use by another process/);
  owner.close();
  new GovernanceStore(file).close();
});

test('delete removes the key, its usage and its AWS credentials together; allowed_pools is stored as JSON', () => {
  const file = dbFile();
  const store = new GovernanceStore(file);
  const k = key({ allowed_pools: ['a,b', 'c'] });
  store.insert(k, { accessKeyId: 'AKIAEXAMPLEEXAMPLE00', keyId: k.id, secretAccessKey: 's'.repeat(40) });
  store.writeUsage([{ keyId: k.id, window: 0, spend: 1, tokens: 0, requests: 1 }]);
  assert.deepEqual(store.load(() => {}).keys[0]?.allowed_pools, ['a,b', 'c']);
  assert.equal(store.delete(k.id), true);
  assert.equal(store.delete(k.id), false);
  const loaded = store.load(() => {});
  assert.deepEqual([loaded.keys.length, loaded.aws.length], [0, 0]);
  assert.deepEqual(store.usage(k.id, 0), { spend_cents: 0, tokens: 0, requests: 0 });
  store.close();
});

// The ledger contract: every backend (memory today; SQLite, PostgreSQL/Redis later) must pass these
// unchanged. Every call is awaited, so a backend whose operations return promises fits as is.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Ledger } from '../../src/ledger/ledger.ts';

export function ledgerContract(backend: string, open: () => Promise<Ledger> | Ledger): void {
  describe(`ledger contract: ${backend}`, () => {
    let n = 0;
    // Each case uses its own keys, so a shared backend needs no cleanup between cases.
    const key = (what: string): string => `contract-${process.pid}-${++n}/${what}`;

    it('one key is one account; keys are independent', async () => {
      const ledger = await open();
      const a = key('a');
      await ledger.account(a, -1).count('ok', 2);
      await ledger.account(a, -1).count('ok');
      await ledger.account(key('b'), -1).count('ok');
      const totals = await ledger.account(a, -1).totals();
      assert.equal(totals.ok, 3);
      assert.equal(totals.budget, -1);
    });

    it('a different limit (a reloaded config) re-limits the account, keeping what was used', async () => {
      const ledger = await open();
      const a = key('relimit');
      await ledger.account(a, -1).count('ok', 4);
      // From unlimited: nothing counted as used.
      const limited = ledger.account(a, 5);
      assert.equal(await limited.remaining(), 5);
      assert.equal(await limited.spend(), true);
      assert.equal(await limited.spend(), true);
      assert.equal(await ledger.account(a, 3).remaining(), 1, '2 of 3 used');
      assert.equal(await ledger.account(a, 1).remaining(), 0, 'never below 0');
      assert.equal(await ledger.account(a, -1).remaining(), -1);
      assert.equal((await ledger.account(a, -1).totals()).ok, 4, 'the counters stay');
    });

    it('an unlimited budget never moves and never reports a unit taken', async () => {
      const account = (await open()).account(key('unlimited'), -1);
      assert.equal(await account.remaining(), -1);
      assert.equal(await account.spend(), false);
      await account.refund();
      assert.equal(await account.remaining(), -1);
      assert.equal((await open()).account(key('negative'), -7).remaining(), -1, 'any negative is unlimited');
    });

    it('a limited budget admits exactly its limit under concurrency, never below 0', async () => {
      const account = (await open()).account(key('limited'), 10);
      const taken = await Promise.all(Array.from({ length: 50 }, async () => account.spend()));
      assert.equal(taken.filter(Boolean).length, 10);
      assert.equal(await account.remaining(), 0);
      assert.equal(await account.spend(), false);
    });

    it('a refund gives back one unit and never rises above the limit', async () => {
      const account = (await open()).account(key('refund'), 2);
      assert.equal(await account.spend(), true);
      await account.refund();
      await account.refund();
      assert.equal(await account.remaining(), 2);
      await Promise.all([account.spend(), account.spend()]);
      await account.refund();
      assert.equal(await account.remaining(), 1);
    });

    it('counters add exactly under concurrency', async () => {
      const account = (await open()).account(key('counters'), -1);
      await Promise.all(
        Array.from({ length: 300 }, async (_, i) =>
          account.count(i % 3 === 0 ? 'ok' : i % 3 === 1 ? 'err' : 'clientFault'),
        ),
      );
      await account.count('err', 5);
      const t = await account.totals();
      assert.deepEqual([t.ok, t.err, t.clientFault], [100, 105, 100]);
    });

    it('tokens add exactly and saturate at the largest safe integer', async () => {
      const account = (await open()).account(key('tokens'), -1);
      await Promise.all(
        Array.from({ length: 100 }, async () =>
          account.addUsage({ inputTokens: 3, outputTokens: 7, totalTokens: 10 }),
        ),
      );
      let t = await account.totals();
      assert.deepEqual([t.inputTokens, t.outputTokens], [300, 700]);
      await account.addUsage({
        inputTokens: Number.MAX_SAFE_INTEGER,
        outputTokens: Number.MAX_SAFE_INTEGER,
        totalTokens: Number.MAX_SAFE_INTEGER,
      });
      t = await account.totals();
      assert.deepEqual([t.inputTokens, t.outputTokens], [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER]);
    });

    it('latency is an EWMA with weight 0.2 that ignores unusable samples', async () => {
      const account = (await open()).account(key('latency'), -1);
      assert.equal((await account.totals()).latencyEwmaMs, undefined);
      await account.recordLatency(Number.NaN);
      await account.recordLatency(0);
      await account.recordLatency(-3);
      assert.equal((await account.totals()).latencyEwmaMs, undefined);
      await account.recordLatency(100);
      await account.recordLatency(200);
      assert.equal((await account.totals()).latencyEwmaMs, 120);
    });

    it('totals are a snapshot, not a live view', async () => {
      const account = (await open()).account(key('snapshot'), 3);
      const before = await account.totals();
      await account.count('ok');
      await account.spend();
      assert.deepEqual([before.ok, before.budget], [0, 3]);
    });
  });
}

// The script routing policy's sandbox (G-POL-14…18): QuickJS (WebAssembly) in a worker thread.
// A ranking script works; runaway code, a huge allocation, host-access tricks and thrown errors
// each end in an error verdict within the deadline, the next evaluation works, the caller's inputs
// never change, and the gateway's event loop keeps ticking while a script spins.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { type ScriptInput, ScriptSandbox } from '../../src/policy/script-sandbox.ts';

const input = (): ScriptInput => ({
  req: { pool: 'p', total_chars: 1200, has_tools: false, requested_model: 'p' },
  candidates: [
    { idx: 0, model: 'small', tier: 'small', tags: ['cheap'], latency_ms: null },
    { idx: 3, model: 'large', tier: 'large', tags: ['eu'], latency_ms: 120 },
  ],
  ctx: { pool: 'p', budget_remaining: null },
});

const sandboxes: ScriptSandbox[] = [];
const sandbox = async (source: string): Promise<ScriptSandbox> => {
  const s = await ScriptSandbox.create(source);
  sandboxes.push(s);
  return s;
};
after(async () => {
  for (const s of sandboxes) await s.close();
});

describe('script policy sandbox', () => {
  it('a ranking script returns its order; non-integers and negatives are skipped', async () => {
    const rank = await sandbox(
      'const big = req.total_chars > 1000;\ncandidates.filter(c => c.tier === (big ? "large" : "small")).map(c => c.idx)',
    );
    assert.deepEqual(await rank.evaluate(input(), 150), { kind: 'order', order: [3] });
    const mixed = await sandbox('[3, 1.5, -1, "0", 0, 3]');
    assert.deepEqual(await mixed.evaluate(input(), 150), { kind: 'order', order: [3, 0, 3] });
  });

  it('null, undefined, an empty array or a non-array abstains', async () => {
    for (const source of ['null', 'undefined', '[]', '({order: [0]})', '"0,3"', 'var x = 1;']) {
      assert.deepEqual(await (await sandbox(source)).evaluate(input(), 150), { kind: 'abstain' }, source);
    }
  });

  it('a syntax error fails at compile time with one line', async () => {
    await assert.rejects(ScriptSandbox.create('candidates.map(c => '), (err: Error) => {
      assert.match(err.message, /^SyntaxError: /);
      assert.ok(!err.message.includes('\n'));
      return true;
    });
  });

  it('while(true){} ends in an error within the deadline, and the next evaluation works', async () => {
    const spin = await sandbox('if (req.total_chars > 1000) { while (true) {} } [0]');
    const started = performance.now();
    const verdict = await spin.evaluate(input(), 100);
    assert.equal(verdict.kind, 'error');
    assert.ok(performance.now() - started < 200, `${(performance.now() - started).toFixed(0)} ms`);
    const calm = { ...input(), req: { total_chars: 5 } };
    assert.deepEqual(await spin.evaluate(calm, 100), { kind: 'order', order: [0] });
  });

  it('a 100 MB allocation ends in an error within the deadline; the sandbox is replaced', async () => {
    const hog = await sandbox(
      'if (req.total_chars > 1000) { const a = []; while (true) a.push(new Array(1e6).fill(1)); } [3]',
    );
    const started = performance.now();
    assert.equal((await hog.evaluate(input(), 150)).kind, 'error');
    assert.ok(performance.now() - started < 300, `${(performance.now() - started).toFixed(0)} ms`);
    assert.deepEqual(await hog.evaluate({ ...input(), req: { total_chars: 5 } }, 2000), {
      kind: 'order',
      order: [3],
    });
  });

  it('nothing of the host is reachable: require, process, import, timers, globalThis tricks', async () => {
    const probe = await sandbox(
      'throw new Error([typeof require, typeof process, typeof setTimeout, typeof fetch, typeof globalThis.constructor.constructor("return this")().process].join(","))',
    );
    const verdict = await probe.evaluate(input(), 150);
    assert.equal(verdict.kind, 'error');
    assert.match((verdict as { reason: string }).reason, /undefined,undefined,undefined,undefined,undefined/);
    for (const source of [
      'require("fs")',
      'process.env',
      'import("fs")',
      'new Function("return process")()',
    ]) {
      const result = await (await sandbox(source)).evaluate(input(), 150);
      assert.notEqual(result.kind, 'order', source);
    }
  });

  it('a thrown error, or a syntax error met at run time, is an error verdict', async () => {
    const thrower = await sandbox('throw new TypeError("no candidates for you")');
    const verdict = await thrower.evaluate(input(), 150);
    assert.equal(verdict.kind, 'error');
    assert.match((verdict as { reason: string }).reason, /TypeError: no candidates for you/);
    const late = await sandbox('eval("candidates.map(c => ")');
    const lateVerdict = await late.evaluate(input(), 150);
    assert.equal(lateVerdict.kind, 'error');
    assert.match((lateVerdict as { reason: string }).reason, /SyntaxError/);
  });

  it("mutations reach neither the caller's objects nor the next evaluation", async () => {
    const mutator = await sandbox(
      'try { candidates[0].idx = 99 } catch (e) {}\ntry { Array.prototype.map = null } catch (e) {}\ntry { globalThis.leak = 1 } catch (e) {}\n[candidates[0].idx, typeof [].map === "function" ? 1 : 0, typeof leak === "undefined" ? 2 : 0]',
    );
    const given = input();
    assert.deepEqual(await mutator.evaluate(given, 150), { kind: 'order', order: [0, 1, 2] });
    assert.deepEqual(await mutator.evaluate(given, 150), { kind: 'order', order: [0, 1, 2] });
    assert.deepEqual(given, input());
  });

  it('the event loop keeps ticking while a script spins', async () => {
    const spin = await sandbox('while (true) {}');
    let last = performance.now();
    let worst = 0;
    const ticker = setInterval(() => {
      const now = performance.now();
      worst = Math.max(worst, now - last);
      last = now;
    }, 5);
    await Promise.all([spin.evaluate(input(), 150), spin.evaluate(input(), 150)]);
    clearInterval(ticker);
    assert.ok(worst < 50, `the longest gap between 5 ms ticks: ${worst.toFixed(1)} ms`);
  });
});

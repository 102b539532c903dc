// The script routing policy's sandbox (G-POL-14…18): QuickJS (WebAssembly) in a worker thread.
// A ranking script works; runaway code, a huge allocation, host-access tricks and thrown errors
// each end in an error verdict within the deadline, the next evaluation works, the caller's inputs
// never change, and the gateway's event loop keeps ticking while a script spins.

import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { type ScriptInput, ScriptSandbox, type ScriptVerdict } from '../../src/policy/script-sandbox.ts';

const input = (total_chars = 1200): ScriptInput => ({
  req: { pool: 'p', total_chars, has_tools: false, requested_model: 'p' },
  candidates: [
    { idx: 0, model: 'small', tier: 'small', tags: ['cheap'], latency_ms: null, cost_per_mtok: 0.5 },
    { idx: 3, model: 'large', tier: 'large', tags: ['eu'], latency_ms: 120, cost_per_mtok: 3 },
  ],
  ctx: { pool: 'p', budget_remaining: null },
});
const calm = input(5);

const sandboxes: ScriptSandbox[] = [];
const sandbox = async (source: string): Promise<ScriptSandbox> => {
  const s = await ScriptSandbox.create(source);
  sandboxes.push(s);
  return s;
};
// Closed after each test: every sandbox is a thread, and the tests' deadlines assume idle CPUs.
afterEach(async () => {
  await Promise.all(sandboxes.splice(0).map((s) => s.close()));
});

const reasonOf = (v: ScriptVerdict): string =>
  v.kind === 'error' ? v.reason : `not an error: ${JSON.stringify(v)}`;

async function timed(p: Promise<ScriptVerdict>): Promise<[ScriptVerdict, number]> {
  const started = performance.now();
  const v = await p;
  return [v, performance.now() - started];
}

describe('script policy sandbox', () => {
  it('a ranking script returns its order', async () => {
    const rank = await sandbox(
      'const big = req.total_chars > 1000;\ncandidates.filter(c => c.tier === (big ? "large" : "small")).map(c => c.idx)',
    );
    assert.deepEqual(await rank.evaluate(input(), 150), { kind: 'order', order: [3] });
    assert.deepEqual(await rank.evaluate(calm, 150), { kind: 'order', order: [0] });
  });

  it('non-integers and negatives are skipped; the order is not checked against the candidates', async () => {
    const mixed = await sandbox('[3, 1.5, -1, "0", 0, 3, NaN, 7]');
    assert.deepEqual(await mixed.evaluate(input(), 150), { kind: 'order', order: [3, 0, 3, 7] });
    assert.deepEqual(await (await sandbox('[-1, 0.5]')).evaluate(input(), 150), { kind: 'abstain' });
  });

  it('null, undefined, an empty array or a non-array abstains', async () => {
    const sources = [
      'null',
      'undefined',
      '[]',
      '({order: [0]})',
      '"0,3"',
      '3',
      'var x = [1];',
      'function f() {}',
    ];
    for (const source of sources) {
      assert.deepEqual(await (await sandbox(source)).evaluate(input(), 150), { kind: 'abstain' }, source);
    }
  });

  it('a script may sort and change its own copy of the inputs; the inputs are read-only globals', async () => {
    const sort = await sandbox(
      'candidates.sort((a, b) => b.cost_per_mtok - a.cost_per_mtok).map(c => c.idx)',
    );
    assert.deepEqual(await sort.evaluate(input(), 150), { kind: 'order', order: [3, 0] });
    const globals = await sandbox('[globalThis.req === req ? 1 : 0, "candidates" in globalThis ? 2 : 0]');
    assert.deepEqual(await globals.evaluate(input(), 150), { kind: 'order', order: [1, 2] });
    assert.match(reasonOf(await (await sandbox('candidates = []')).evaluate(input(), 150)), /TypeError/);
  });

  it("mutations reach neither the caller's objects nor the next evaluation", async () => {
    const mutator = await sandbox(
      [
        'const seen = [candidates[0].idx, req.x === undefined ? 1 : 0];',
        'candidates[0].idx = 99; req.x = 1; candidates.push({ idx: 5 }); ctx.pool = "q";',
        'try { Array.prototype.map = null } catch (e) {}',
        'try { globalThis.leak = 1 } catch (e) {}',
        'try { Object.getPrototypeOf(function* () {}).leak = 1 } catch (e) {}',
        'try { Object.getPrototypeOf([].values()).next = null } catch (e) {}',
        'Promise.resolve().then(() => { globalThis.late = 1 });',
        'seen.concat([typeof [].map === "function" ? 2 : 0, typeof leak === "undefined" ? 3 : 0,',
        '  [...[4]][0], Object.getPrototypeOf(function* () {}).leak === undefined ? 5 : 0, candidates.length])',
      ].join('\n'),
    );
    const given = input();
    const expected = { kind: 'order', order: [0, 1, 2, 3, 4, 5, 3] };
    assert.deepEqual(await mutator.evaluate(given, 150), expected);
    assert.deepEqual(await mutator.evaluate(given, 150), expected);
    assert.deepEqual(given, input());
  });

  it('a syntax error fails at compile time with one line', async () => {
    for (const source of ['candidates.map(c => ', 'with (req) { 1 }', '[1,\n2,\n)']) {
      await assert.rejects(ScriptSandbox.create(source), (err: Error) => {
        assert.match(err.message, /^SyntaxError: .*line:column \d+:\d+/);
        assert.ok(!err.message.includes('\n'), err.message);
        return true;
      });
    }
  });

  it('a thrown error, or a syntax error met at run time, is an error verdict', async () => {
    const thrower = await sandbox(
      'if (req.total_chars > 1000) throw new TypeError("no candidates for you"); [0]',
    );
    assert.match(reasonOf(await thrower.evaluate(input(), 150)), /^TypeError: no candidates for you/);
    assert.deepEqual(await thrower.evaluate(calm, 150), { kind: 'order', order: [0] });
    assert.match(reasonOf(await (await sandbox('throw 42')).evaluate(input(), 150)), /42/);
    const late = await sandbox('eval("candidates.map(c => ")');
    assert.match(reasonOf(await late.evaluate(input(), 150)), /^SyntaxError/);
  });

  it('while(true){} ends in an error within the deadline, and the next evaluation works', async () => {
    const spin = await sandbox('if (req.total_chars > 1000) { while (true) {} } [0]');
    const [verdict, ms] = await timed(spin.evaluate(input(), 1000));
    // The operation budget ends it long before the deadline.
    assert.match(reasonOf(verdict), /operation budget/);
    assert.ok(ms < 1000, `${ms.toFixed(0)} ms`);
    assert.deepEqual(await spin.evaluate(calm, 100), { kind: 'order', order: [0] });
    // Slow native work per operation: the deadline ends it before the budget does.
    const slow = await sandbox(
      'if (req.total_chars > 1000) { while (true) "x".repeat(1e5).indexOf("y") } [0]',
    );
    const [late, lateMs] = await timed(slow.evaluate(input(), 100));
    assert.match(reasonOf(late), /deadline/);
    assert.ok(late.kind === 'error' && late.timedOut);
    assert.ok(lateMs < 200, `${lateMs.toFixed(0)} ms`);
    assert.deepEqual(await slow.evaluate(calm, 100), { kind: 'order', order: [0] });
  });

  it('a native call that never yields is stopped by terminating the worker; a new worker answers next', async () => {
    const stuck = await sandbox('if (req.total_chars > 1000) Array(1e9).indexOf(1); [3]');
    const [verdict, ms] = await timed(stuck.evaluate(input(), 100));
    assert.equal(verdict.kind, 'error');
    assert.ok(verdict.kind === 'error' && verdict.timedOut, JSON.stringify(verdict));
    assert.ok(ms < 200, `${ms.toFixed(0)} ms`);
    // Queued behind the stuck one: its wait counts against its own deadline, and it is answered
    // by the replacement.
    const queued = stuck.evaluate(calm, 1000);
    assert.deepEqual(await queued, { kind: 'order', order: [3] });
    assert.deepEqual(await stuck.evaluate(calm, 150), { kind: 'order', order: [3] });
  });

  it("a queued evaluation's wait counts against its own deadline", async () => {
    const spin = await sandbox(
      'if (req.total_chars > 1000) { const t = Date.now(); while (Date.now() - t < 300) "x".repeat(1e5).indexOf("y") } [0]',
    );
    const first = spin.evaluate(input(), 150);
    const [second, ms] = await timed(spin.evaluate(calm, 80));
    assert.equal(second.kind, 'error');
    assert.ok(ms < 150, `${ms.toFixed(0)} ms`);
    assert.equal((await first).kind, 'error');
    assert.deepEqual(await spin.evaluate(calm, 150), { kind: 'order', order: [0] });
  });

  it('more than 64 waiting evaluations: the next is an error at once', async () => {
    const slow = await sandbox('const t = Date.now(); while (Date.now() - t < 5) {} [0]');
    const waiting = Array.from({ length: 64 }, () => slow.evaluate(calm, 2000));
    const [over, ms] = await timed(slow.evaluate(calm, 2000));
    assert.match(reasonOf(over), /64 evaluations/);
    assert.ok(ms < 5, `${ms.toFixed(1)} ms`);
    for (const v of await Promise.all(waiting)) assert.notEqual(v.kind, 'abstain');
  });

  it('a 100 MB allocation ends in an error; the next evaluation works', async () => {
    for (const hog of [
      'if (req.total_chars > 1000) new Array(1e8).fill(1); [3]',
      'if (req.total_chars > 1000) "x".repeat(1e8); [3]',
      // Doubling builds a rope; searching it makes it a flat 128 MB string.
      'if (req.total_chars > 1000) { let s = "x"; for (let i = 0; i < 27; i++) s += s; s.indexOf("y") } [3]',
    ]) {
      const s = await sandbox(hog);
      const [verdict, ms] = await timed(s.evaluate(input(), 1000));
      assert.match(reasonOf(verdict), /out of memory/, hog);
      assert.ok(ms < 1000, `${hog}: ${ms.toFixed(0)} ms`);
      assert.deepEqual(await s.evaluate(calm, 150), { kind: 'order', order: [3] }, hog);
    }
  });

  it('deep recursion and deep nesting end in an error; the next evaluation works', async () => {
    const deep = await sandbox(
      'if (req.total_chars > 1000) { const f = (n) => f(n + 1); f(0) } else if (req.total_chars > 10) eval("(".repeat(20000) + "1" + ")".repeat(20000)); [0]',
    );
    assert.match(reasonOf(await deep.evaluate(input(), 500)), /stack overflow/);
    assert.match(reasonOf(await deep.evaluate(input(20), 500)), /stack overflow/);
    assert.deepEqual(await deep.evaluate(calm, 150), { kind: 'order', order: [0] });
  });

  it('a result longer than 4096 elements is an error', async () => {
    const long = await sandbox('Array.from({ length: 5000 }, (_, i) => i)');
    assert.match(reasonOf(await long.evaluate(input(), 500)), /more than 4096/);
  });

  it('nothing of the host is reachable: require, process, import, timers, globalThis tricks', async () => {
    // Read back through an error message: a string is no order.
    const probe = await sandbox(
      'throw new Error([typeof require, typeof process, typeof setTimeout, typeof fetch, typeof console, typeof std, typeof os, typeof Buffer, typeof WebAssembly, typeof globalThis.constructor.constructor("return this")().process].join())',
    );
    assert.match(reasonOf(await probe.evaluate(input(), 150)), /^Error: (undefined,){9}undefined/);
    for (const source of [
      'require("fs")',
      'process.env',
      'import("fs")',
      'globalThis.constructor.constructor("return process")()',
      'new Function("return process")().env',
      'Function("return this")().process.mainModule',
      'Object.getOwnPropertyNames(globalThis).filter(k => /process|require|module/.test(k)).length ? [0] : null',
    ]) {
      const result = await (await sandbox(source)).evaluate(input(), 150);
      assert.notEqual(result.kind, 'order', source);
      assert.doesNotMatch(JSON.stringify(result), /PATH|HOME|node_modules|\/work\//, source);
    }
  });

  it('the event loop keeps ticking while a script spins', async () => {
    const spin = await sandbox('const t = Date.now(); while (Date.now() - t < 1000) {}');
    const stuck = await sandbox('Array(1e9).indexOf(1)');
    let last = performance.now();
    let worst = 0;
    const ticker = setInterval(() => {
      const now = performance.now();
      worst = Math.max(worst, now - last);
      last = now;
    }, 5);
    const verdicts = await Promise.all([
      spin.evaluate(input(), 200),
      spin.evaluate(input(), 250),
      stuck.evaluate(input(), 200),
    ]);
    clearInterval(ticker);
    for (const v of verdicts) assert.equal(v.kind, 'error');
    assert.ok(worst < 30, `the longest gap between 5 ms ticks: ${worst.toFixed(1)} ms`);
  });

  it('a closed sandbox answers with an error', async () => {
    const s = await ScriptSandbox.create('[0]');
    await s.close();
    assert.match(reasonOf(await s.evaluate(input(), 150)), /closed/);
  });
});

// Smooth weighted round-robin properties (G-POOL-6…8, G-TST-1).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fnv1a64 } from '../../src/routing/affinity.ts';
import { pickSwrr, type SwrrMember } from '../../src/routing/swrr.ts';

function members(weights: readonly number[]): SwrrMember[] {
  return weights.map((weight) => ({ weight, cell: { currentWeight: 0 } }));
}

/** A deterministic PRNG (mulberry32) so the property test is repeatable. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('SWRR', () => {
  it('G-TST-1 weights 5/1/1 give a a b a c a a, repeating', () => {
    const ms = members([5, 1, 1]);
    const picks = Array.from({ length: 14 }, () => 'abc'[pickSwrr(ms, () => true, undefined)]).join(' ');
    assert.equal(picks, 'a a b a c a a a a b a c a a');
  });

  it('an 8:2 pool gives exactly 80/20 over 1,000 requests, evenly spread', () => {
    const ms = members([8, 2]);
    const counts = [0, 0];
    let longestRun = 0;
    let run = 0;
    for (let i = 0; i < 1000; i++) {
      const at = pickSwrr(ms, () => true, undefined);
      counts[at]!++;
      run = at === 0 ? run + 1 : 0;
      longestRun = Math.max(longestRun, run);
    }
    assert.deepEqual(counts, [800, 200]);
    assert.ok(longestRun <= 4, `interleaved, longest run ${longestRun}`);
  });

  it('property: over one full cycle the picks match the weights of the usable subset exactly', () => {
    const random = rng(42);
    for (let trial = 0; trial < 300; trial++) {
      const n = 1 + Math.floor(random() * 6);
      const weights = Array.from({ length: n }, () => (random() < 0.2 ? 0 : 1 + Math.floor(random() * 9)));
      const usable = weights.map(() => random() < 0.8);
      const ms = members(weights);
      const total = weights.reduce((sum, w, i) => sum + (usable[i] ? w : 0), 0);
      const counts = new Array<number>(n).fill(0);
      for (let i = 0; i < total; i++) {
        const at = pickSwrr(ms, (j) => usable[j]!, undefined);
        assert.ok(at >= 0);
        counts[at]!++;
      }
      assert.deepEqual(
        counts,
        weights.map((w, i) => (usable[i] ? w : 0)),
        `weights ${weights} usable ${usable}`,
      );
      if (total === 0)
        assert.equal(
          pickSwrr(ms, (j) => usable[j]!, undefined),
          -1,
        );
    }
  });

  it('G-POOL-10 a weight-0 member is never picked, even alone', () => {
    assert.equal(
      pickSwrr(members([0]), () => true, undefined),
      -1,
    );
  });
});

describe('affinity hash', () => {
  it('G-POOL-15 FNV-1a 64 matches the reference vectors', () => {
    assert.equal(fnv1a64(''), 0xcbf29ce484222325n);
    assert.equal(fnv1a64('a'), 0xaf63dc4c8601ec8cn);
    assert.equal(fnv1a64('foobar'), 0x85944171f73967e8n);
  });
});

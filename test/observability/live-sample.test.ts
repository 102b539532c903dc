// The dashboard's per-second samples: latency quantiles from buckets, and several workers' samples
// merged into the node's (traffic summed, lanes by the rules `busbar_lane_available` uses).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  LATENCY_BOUNDS_MS,
  type LaneView,
  type LiveSample,
  mergeSamples,
  quantile,
  toPoint,
} from '../../src/observability/live-sample.ts';

const buckets = (entries: Record<number, number>): number[] =>
  LATENCY_BOUNDS_MS.map((bound) => entries[bound] ?? 0);

test('quantiles interpolate inside the bucket that holds them; none without requests', () => {
  assert.equal(quantile(buckets({}), 0.5), null);
  // 100 requests in (0.5, 0.75]: the median is halfway through that bucket.
  assert.equal(quantile(buckets({ 0.75: 100 }), 0.5), 0.625);
  // 99 fast, 1 slow: p50 among the fast, p99 at the top of the fast bucket, p100 in the slow one.
  const mixed = buckets({ 1: 99, 100: 1 });
  assert.ok(quantile(mixed, 0.5)! <= 1);
  assert.equal(quantile(mixed, 0.99), 1);
  assert.ok(quantile(mixed, 1)! > 75);
  // Above the last bound the quantile reads as the bound (the bucket has no upper end).
  assert.equal(quantile(buckets({ [Number.POSITIVE_INFINITY]: 3 }), 0.5), 10_000);
});

const lane = (over: Partial<LaneView>): LaneView => ({
  name: 'a',
  provider: 'p',
  pools: ['pool'],
  breaker: 'closed',
  available: true,
  reason: '',
  recovers_in_ms: 0,
  inflight: 0,
  max_concurrent: 4,
  drained: false,
  ok: 0,
  err: 0,
  ...over,
});

const sample = (requests: number, views: LaneView[]): LiveSample => ({
  traffic: { requests, errors: 1, failovers: 2, tokens: 10 * requests },
  tokensIn: 6 * requests,
  tokensOut: 4 * requests,
  latency: buckets({ 0.5: requests }),
  pools: { pool: { requests, errors: 1, failovers: 2, tokens: 10 * requests } },
  lanes: { a: { requests, errors: 1, failovers: 0, tokens: 10 * requests } },
  laneViews: views,
  poolViews: [{ name: 'pool', members: [{ lane: 'a', weight: 1, drained: false }] }],
});

test("two workers' samples: traffic summed, a lane available if either can serve, its worst breaker", () => {
  const merged = mergeSamples([
    sample(3, [
      lane({
        breaker: 'open',
        available: false,
        reason: 'breaker_open',
        recovers_in_ms: 900,
        inflight: 1,
        ok: 5,
      }),
    ]),
    sample(5, [lane({ inflight: 2, ok: 7, err: 1 })]),
  ]);
  assert.deepEqual(merged.traffic, { requests: 8, errors: 2, failovers: 4, tokens: 80 });
  assert.deepEqual(merged.pools.pool, { requests: 8, errors: 2, failovers: 4, tokens: 80 });
  assert.equal(merged.tokensIn, 48);
  assert.equal(merged.latency[LATENCY_BOUNDS_MS.indexOf(0.5)], 8);
  assert.deepEqual(merged.laneViews, [
    lane({ breaker: 'open', available: true, inflight: 3, max_concurrent: 8, ok: 12, err: 1 }),
  ]);
  const both = mergeSamples([
    sample(1, [lane({ available: false, reason: 'at_capacity' })]),
    sample(1, [lane({ available: false, reason: 'breaker_open', recovers_in_ms: 400 })]),
  ]);
  assert.equal(both.laneViews[0]?.available, false);
  assert.equal(both.laneViews[0]?.reason, 'at_capacity');
  const point = toPoint(merged, 1000, 1000);
  assert.equal(point.requests, 8);
  assert.equal(point.added_p50_ms, 0.4);
});

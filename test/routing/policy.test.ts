// The native policies' order (G-POL-3, G-POL-9) and the pick's ordered walk (§2.8 step 4), on a
// routing table built from configuration: stable ties by lane index, members without the signal
// demoted and never dropped, abstention when no member has it, exclusions never ranked, and a
// ranked member whose cell is cooling down passed over.

import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { PickRequest, pickMember } from '../../src/routing/pick.ts';
import type { NativePolicy } from '../../src/routing/policy.ts';
import { RoutingTable } from '../../src/routing/table.ts';
import { loadConfigText } from '../support/load-config.ts';

const CATALOG = 'local:\n  protocol: openai\n  base_url: http://127.0.0.1:9\n';
const model = (n: number) => ({ provider: 'local', max_concurrent: n });
const CONFIG = JSON.stringify({
  listen: '127.0.0.1:0',
  auth: { mode: 'token', client_tokens: ['t'] },
  providers: { local: { api_key_env: 'POLICY_TEST_KEY' } },
  models: { m0: model(2), m1: model(4), m2: model(4), m3: model(4), u0: model(2), u1: model(4) },
  pools: {
    cheap: {
      route: 'cheapest',
      members: [
        { target: 'm2', cost_per_mtok: 5 },
        { target: 'm1' },
        { target: 'm3', cost_per_mtok: 1 },
        { target: 'm0', cost_per_mtok: 1 },
      ],
    },
    cheapExcluded: {
      route: 'cheapest',
      members: [
        { target: 'm0', cost_per_mtok: 1 },
        { target: 'm3', cost_per_mtok: 0.5 },
      ],
      failover: { exclusions: ['m3'] },
    },
    unpriced: { route: 'cheapest', members: [{ target: 'm0' }, { target: 'm1' }] },
    fast: { route: 'fastest', members: [{ target: 'm2' }, { target: 'm1' }, { target: 'm0' }] },
    busy: { route: 'least_busy', members: [{ target: 'u0' }, { target: 'u1' }] },
    usage: { route: 'usage', members: [{ target: 'm1' }, { target: 'm0' }] },
  },
});

let table: RoutingTable;
const names = (order: readonly { lane: { name: string } }[] | undefined) => order?.map((m) => m.lane.name);
const NONE = { rateHeadroom: undefined };

before(() => {
  table = new RoutingTable(loadConfigText(CONFIG, CATALOG, { POLICY_TEST_KEY: 'k' }));
});

const pool = (name: string) => table.pools.get(name)!;
/** The pool's native policy (these pools have no other kind). */
const native = (name: string): NativePolicy => {
  const policy = pool(name).policy;
  assert.equal(policy?.kind, 'native');
  return policy as NativePolicy;
};

describe('native policy orders (G-POL-9)', () => {
  it('cheapest: ascending price, ties by lane index, the unpriced member demoted last', () => {
    assert.deepEqual(names(native('cheap').order(NONE)), ['m0', 'm3', 'm2', 'm1']);
  });

  it('an excluded member is never ranked (G-POL-3); no priced member means no policy at all', () => {
    assert.deepEqual(names(native('cheapExcluded').order(NONE)), ['m0']);
    assert.equal(pool('unpriced').policy, undefined);
  });

  it('fastest: abstains before any sample, then ascending latency with the unsampled demoted', () => {
    const fast = native('fast');
    assert.equal(fast.order(NONE), undefined);
    table.lanes.get('m1')!.account.recordLatency(50);
    table.lanes.get('m0')!.account.recordLatency(50);
    assert.deepEqual(names(fast.order(NONE)), ['m0', 'm1', 'm2']);
    table.lanes.get('m2')!.account.recordLatency(10);
    assert.deepEqual(names(fast.order(NONE)), ['m2', 'm0', 'm1']);
  });

  it('least_busy: descending free permits, read at decision time', () => {
    const busy = native('busy');
    assert.deepEqual(names(busy.order(NONE)), ['u1', 'u0']);
    const u1 = table.lanes.get('u1')!.permits;
    for (let i = 0; i < 3; i++) assert.ok(u1.tryAcquire());
    assert.deepEqual(names(busy.order(NONE)), ['u0', 'u1']);
    for (let i = 0; i < 3; i++) u1.release();
  });

  it("usage: the caller's headroom orders by lane index; without it the policy abstains", () => {
    const usage = native('usage');
    assert.equal(usage.order(NONE), undefined);
    assert.deepEqual(names(usage.order({ rateHeadroom: 0.5 })), ['m0', 'm1']);
  });
});

describe('the ordered walk (§2.8 step 4)', () => {
  it('takes the first ranked member whose cell is ready, and only on the ordered pool', () => {
    const cheap = pool('cheap');
    const request = () => {
      const req = new PickRequest(undefined, table.clock.nowMs() + 10_000, new AbortController().signal);
      req.order = native('cheap').order(NONE);
      req.orderedTarget = cheap;
      return req;
    };
    const first = pickMember(cheap, request())!;
    assert.equal(first.lane.name, 'm0');
    first.cell.releaseProbe();
    // m0's cell cools down after a 5xx-like failure: the walk passes to m3.
    const m0 = cheap.members.find((m) => m.lane.name === 'm0')!;
    m0.cell.recordFailure(30);
    assert.equal(pickMember(cheap, request())!.lane.name, 'm3');
    // The same order handed to another pool is ignored there: plain SWRR.
    const req = request();
    req.orderedTarget = pool('fast');
    const swrr = new Set<string>();
    for (let i = 0; i < 4; i++) swrr.add(pickMember(cheap, req)!.lane.name);
    assert.ok(swrr.size > 1, `SWRR spreads: ${[...swrr].join(', ')}`);
  });
});

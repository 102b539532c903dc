// Member selection seen through HTTP (gateway.md §2.3–2.8): SWRR order (G-TST-1), lifetime budgets
// (G-TST-10) and session affinity (G-TST-14), with one mock per lane so the serving lane is known.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Fleet, fnv1a64, json, servedBy, startFleet } from '../reliability/harness.ts';

const AFF = ['aff-0', 'aff-1', 'aff-2'];

describe('reliability: selection through HTTP', { concurrency: true }, () => {
  let f: Fleet;
  before(async () => {
    f = await startFleet(
      [
        { name: 'a' },
        { name: 'b' },
        { name: 'c' },
        { name: 'budgeted', maxRequests: 2 },
        { name: 'spare' },
        ...AFF.map((name) => ({ name, maxConcurrent: 64 })),
        { name: 'sys-0' },
        { name: 'sys-1' },
        { name: 'sys-2' },
      ],
      {
        swrr: {
          members: [
            { target: 'a', weight: 5 },
            { target: 'b', weight: 1 },
            { target: 'c', weight: 1 },
          ],
        },
        budget: { members: ['budgeted', 'spare'] },
        sticky: { members: AFF },
        'sticky-renamed': { members: AFF, affinity: { mode: 'session', header_name: 'X-Conversation' } },
        // Built per test: the sticky member of `s1` drained.
        ...Object.fromEntries(
          [0, 1, 2].map((i) => [
            `sticky-drain-${i}`,
            { members: AFF.map((target, j) => ({ target, weight: i === j ? 0 : 1 })) },
          ]),
        ),
        'sticky-system': { members: ['sys-0', 'sys-1', 'sys-2'] },
      },
    );
  });
  after(async () => {
    await f?.stop();
  });

  it('G-TST-1 weights 5/1/1: 14 sequential requests are served a a b a c a a a a b a c a a', async () => {
    const order: string[] = [];
    for (let i = 0; i < 14; i++) {
      const res = await f.client.chat('swrr');
      assert.equal(res.status, 200);
      order.push(servedBy(res));
    }
    assert.deepEqual(order, 'a a b a c a a a a b a c a a'.split(' '));
  });

  it('G-TST-10 max_requests: 2 — the third request is refused; the lane is inadmissible in pools too', async () => {
    assert.equal((await f.client.chat('budgeted')).status, 200);
    assert.equal((await f.client.chat('budgeted')).status, 200);
    const third = await f.client.chat('budgeted');
    assert.equal(third.status, 503);
    assert.equal(json<{ error: { type: string } }>(third).error.type, 'overloaded_error');
    assert.ok(Number(third.headers['retry-after']) >= 1);
    const lane = await f.client.lane('budgeted');
    assert.deepEqual([lane.budget, lane.usable, lane.ok], [0, false, 2]);
    // The pool keeps serving from the other member; the spent lane never sees another request.
    const viaPool = await Promise.all(Array.from({ length: 4 }, () => f.client.chat('budget')));
    assert.deepEqual(
      viaPool.map((r) => [r.status, servedBy(r)]),
      Array(4).fill([200, 'spare']),
    );
    assert.equal(f.mock('budgeted').requests.length, 2);
  });

  it('G-TST-14 x-session-id: s1 pins 100 requests to members[fnv1a64("s1") mod 3]', async () => {
    const sticky = AFF[Number(fnv1a64('s1') % 3n)]!;
    const served: string[] = [];
    for (let round = 0; round < 5; round++) {
      const batch = await Promise.all(
        Array.from({ length: 20 }, () => f.client.chat('sticky', { headers: { 'x-session-id': 's1' } })),
      );
      for (const r of batch) {
        assert.equal(r.status, 200);
        served.push(servedBy(r));
      }
    }
    assert.deepEqual(new Set(served), new Set([sticky]));
    assert.equal(served.length, 100);
    // The renamed header pins the same way (case-insensitive lookup); x-session-id is then ignored.
    const renamed = await f.client.chat('sticky-renamed', { headers: { 'x-conversation': 's1' } });
    assert.equal(servedBy(renamed), sticky);
  });

  it('G-TST-14 with the sticky member drained (weight 0), the session spreads over the others by SWRR', async () => {
    const index = Number(fnv1a64('s1') % 3n);
    const sticky = AFF[index]!;
    const pool = `sticky-drain-${index}`;
    const served: string[] = [];
    for (let i = 0; i < 10; i++) {
      const r = await f.client.chat(pool, { headers: { 'x-session-id': 's1' } });
      assert.equal(r.status, 200);
      served.push(servedBy(r));
    }
    assert.ok(!served.includes(sticky), `drained member ${sticky} served: ${served.join(' ')}`);
    const others = AFF.filter((m) => m !== sticky);
    for (const m of others) assert.equal(served.filter((s) => s === m).length, 5, served.join(' '));
  });

  it('G-POOL-14 without the header, a non-empty string `system` is the affinity key (Anthropic ingress)', async () => {
    const system = 'You are a terse assistant.';
    const expected = `sys-${Number(fnv1a64(system) % 3n)}`;
    const served = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const res = await f.client.post(
        '/sticky-system/v1/messages',
        JSON.stringify({
          model: 'sticky-system',
          max_tokens: 32,
          system,
          messages: [{ role: 'user', content: `question ${i}` }],
        }),
      );
      assert.equal(res.status, 200, res.body);
      served.add(json<{ model: string }>(res).model);
    }
    assert.deepEqual([...served], [expected]);
  });
});

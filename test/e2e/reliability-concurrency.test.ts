// 500 parallel requests against a pool with a tripping lane (gateway.md G-POOL-2/3, G-BRK-13/16):
// every request is answered exactly once, the half-open probe is single-flight even under a burst,
// and every lane permit is back afterwards.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Fleet, failRepeatedly, type Reply, startFleet } from '../reliability/harness.ts';

const N = 500;
/** The probe answers only after every other request of its burst has been picked and served. */
const PROBE_MS = 1000;

/** Each request carries a unique prompt so the upstream side can be matched to the client side. */
function promptOf(body: Buffer): string {
  return (JSON.parse(body.toString()) as { messages: { content: string }[] }).messages[0]!.content;
}

describe('reliability: concurrency', () => {
  let f: Fleet;
  before(async () => {
    f = await startFleet(
      [
        { name: 'trippy', maxConcurrent: 8 },
        { name: 'healthy', maxConcurrent: 32 },
      ],
      {
        busy: {
          members: ['trippy', 'healthy'],
          breaker: { trip: { mode: 'consecutive', n: 3 }, base_cooldown_secs: 1, max_cooldown_secs: 2 },
        },
      },
    );
  });
  after(async () => {
    await f?.stop();
  });

  async function burst(tag: string): Promise<Reply[]> {
    return Promise.all(Array.from({ length: N }, (_, i) => f.client.chat('busy', { prompt: `${tag}-${i}` })));
  }

  function assertEachAnsweredOnce(tag: string, replies: Reply[]): void {
    assert.equal(replies.length, N);
    const bad = replies.filter((r) => r.status !== 200 || r.cut);
    assert.equal(
      bad.length,
      0,
      `non-200: ${bad.map((r) => `${r.status} ${r.body.slice(0, 120)}`).join(' | ')}`,
    );
    // Upstream side: each request was served by exactly one successful call, and the client got that
    // call's answer, whole (a same-protocol relay is byte-for-byte).
    const served = new Map<string, string[]>();
    for (const name of ['trippy', 'healthy']) {
      for (const req of f.mock(name).requests) {
        const prompt = promptOf(req.body);
        if (!prompt.startsWith(`${tag}-`) || req.response?.status !== 200) continue;
        served.set(prompt, [...(served.get(prompt) ?? []), req.response.body.toString('utf8')]);
      }
    }
    assert.equal(served.size, N, 'every request reached a healthy upstream');
    assert.ok(
      [...served.values()].every((bodies) => bodies.length === 1),
      'no request answered twice upstream',
    );
    replies.forEach((r, i) => {
      assert.equal(r.body, served.get(`${tag}-${i}`)?.[0], `request ${i} got its own upstream answer`);
    });
  }

  async function assertPermitsBack(): Promise<void> {
    const stats = await f.client.stats();
    for (const lane of stats.lanes) {
      assert.deepEqual(
        [lane.model, lane.inflight, lane.free_slots],
        [lane.model, 0, lane.max_concurrent],
        'permits back at their caps',
      );
    }
  }

  it('500 parallel requests with a tripping lane: none lost, none answered twice, single-flight probe, permits back', async () => {
    const trippy = f.mock('trippy');
    const healthy = f.mock('healthy');
    // The failures come back slowly enough that at least three requests reach the lane before the
    // first one lands (the burst's connections can take tens of ms to arrive on a loaded machine).
    failRepeatedly(trippy, N, { status: 500, delayMs: 150 });
    healthy.configure({});

    // Wave 1: the lane trips under load; every request is still answered once.
    const wave1 = await burst('w1');
    assertEachAnsweredOnce('w1', wave1);
    const tripped = await f.client.lane('trippy');
    assert.ok(tripped.streak >= 3, JSON.stringify(tripped));
    assert.equal(tripped.err, trippy.requests.length, 'every failed attempt counted once');
    assert.equal(tripped.ok, 0);
    assert.equal((await f.client.lane('healthy')).ok, N);
    await assertPermitsBack();

    // Wave 2, after the cooldown: 500 requests race for the half-open probe; exactly one gets it.
    await f.client.cooldownOver('trippy');
    trippy.reset();
    healthy.reset();
    trippy.enqueue({ status: 500, delayMs: PROBE_MS });
    const wave2 = await burst('w2');
    assertEachAnsweredOnce('w2', wave2);
    assert.equal(trippy.requests.length, 1, 'single-flight half-open probe');
    assert.equal(healthy.requests.length, N);
    await assertPermitsBack();

    // Wave 3, after the next cooldown: the probe succeeds and closes the cell; still one probe only.
    await f.client.cooldownOver('trippy');
    trippy.reset();
    healthy.reset();
    trippy.enqueue({ delayMs: PROBE_MS });
    const wave3 = await burst('w3');
    assertEachAnsweredOnce('w3', wave3);
    assert.equal(trippy.requests.length, 1, 'single-flight half-open probe');
    assert.equal(healthy.requests.length, N - 1);
    const closed = await f.client.lane('trippy');
    assert.deepEqual([closed.streak, closed.cooldown_remaining_s, closed.usable, closed.ok], [0, 0, true, 1]);
    await assertPermitsBack();
  });
});

// Failure disposition and in-flight failover through the HTTP surface (gateway.md §3.1, §3.4–3.7):
// every pool member is its own mock upstream, so one member can fail while another answers. Each
// test uses its own lanes and pools, so the tests of the describe run concurrently on one gateway.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { fetch as undiciFetch } from 'undici';
import {
  type Fleet,
  failRepeatedly,
  json,
  type LaneSpec,
  openaiError,
  type PoolSpec,
  servedBy,
  startFleet,
  TOKEN,
} from '../reliability/harness.ts';
import { rawRequest } from '../support/raw-requests.ts';

const OVERLOADED = 'The service is temporarily overloaded. Please retry shortly.';
const TIMED_OUT = 'The request timed out. Please retry shortly.';

/** An OpenAI error body carrying a provider code (the mock's default envelope has none). */
function openaiErrorBody(message: string, type: string, code: string | null): string {
  return JSON.stringify({ error: { message, type, param: null, code } });
}

const lanes: LaneSpec[] = [];
const pools: Record<string, PoolSpec> = {};
function lane(name: string, extra: Omit<LaneSpec, 'name'> = {}): string {
  lanes.push({ name, ...extra });
  return name;
}
function pool(name: string, spec: PoolSpec): string {
  pools[name] = spec;
  return name;
}

// [failing, healthy]
const pairFailing = lane('pair-failing');
const pairHealthy = lane('pair-healthy');
const pair = pool('pair', { members: [pairFailing, pairHealthy] });
// Client faults
const cfA = lane('cf-a');
const cfB = lane('cf-b');
const cf = pool('cf', { members: [cfA, cfB] });
const direct400 = lane('direct-400');
const direct500 = lane('direct-500');
// Auth hard-down, seen through two pools and the direct route
const authX = lane('auth-x');
const authY = lane('auth-y');
const authP1 = pool('auth-p1', { members: [authX, authY] });
const authP2 = pool('auth-p2', { members: [authX, authY] });
const authAnth = lane('auth-anth');
// Billing hard-down on the shipped `openai` catalog entry (error_map insufficient_quota: billing)
const billX = lane('bill-x', { shippedEntry: 'openai' });
const billY = lane('bill-y');
const bill = pool('bill', { members: [billX, billY] });
const billSolo = pool('bill-solo', { members: [billX] });
// Context length (G-TST-8)
const ctxA = lane('ctx-a');
const ctxB = lane('ctx-b');
const ctxC = lane('ctx-c');
const ctxD = lane('ctx-d');
const ctx = pool('ctx', {
  members: [
    { target: ctxA, context_max: 200_000 },
    { target: ctxB, context_max: 128_000 },
    { target: ctxC },
    { target: ctxD, context_max: 1_000_000 },
  ],
});
const ctx5A = lane('ctx5-a');
const ctx5B = lane('ctx5-b');
const ctx5 = pool('ctx5', {
  members: [
    { target: ctx5A, context_max: 200_000 },
    { target: ctx5B, context_max: 128_000 },
  ],
});
const ctxBig = lane('ctxmax-big');
const ctxSmall = lane('ctxmax-small');
const ctxMax = pool('ctxmax', {
  members: [
    { target: ctxBig, context_max: 1_000_000 },
    { target: ctxSmall, context_max: 128_000 },
  ],
});
// Transport failures and mid-stream cuts
const trA = lane('tr-a');
const trB = lane('tr-b');
const tr = pool('tr', { members: [trA, trB] });
const cutA = lane('cut-a');
const cutB = lane('cut-b');
const cut = pool('cut', { members: [cutA, cutB] });
const cutSdk = lane('cut-sdk');
const cutX = lane('cut-x', { protocol: 'anthropic' });
// Retry-After
const raA = lane('ra-a');
const raB = lane('ra-b');
const ra = pool('ra', { members: [raA, raB] });
// Cross-protocol failover
const xpAnth = lane('xp-anth', { protocol: 'anthropic' });
const xpOai = lane('xp-oai');
const xp = pool('xp', { members: [xpAnth, xpOai] });
// on_exhausted
const rjA = lane('rj-a');
const rjB = lane('rj-b');
const rj = pool('rj', { members: [rjA, rjB] });
const lbP = lane('lb-p');
const lbQ = lane('lb-q');
const lb = pool('lb', { members: [lbP, lbQ], on_exhausted: { action: 'least_bad' } });
const lbxP = lane('lbx-p');
const lbxQ = lane('lbx-q');
const lbx = pool('lbx', {
  members: [lbxP, { target: lbxQ, weight: 0 }],
  on_exhausted: { action: 'least_bad' },
});
const fbA = lane('fb-a');
const fbB = lane('fb-b');
const fbPrimary = pool('fb-primary', { members: [fbA], on_exhausted: { action: 'fallback_pool:fb-backup' } });
pool('fb-backup', { members: [fbB, fbA] });
const chA = lane('ch-a');
const chB = lane('ch-b');
const chC = lane('ch-c');
const chain1 = pool('chain-1', { members: [chA], on_exhausted: { action: 'fallback_pool:chain-2' } });
pool('chain-2', { members: [chB], on_exhausted: { action: 'fallback_pool:chain-3' } });
pool('chain-3', { members: [chC] });
// Attempt bounds
const capLanes = [1, 2, 3, 4, 5].map((i) => lane(`cap-${i}`));
const capped = pool('capped', { members: capLanes, failover: { cap: 2 } });
const dlLanes = [1, 2, 3, 4].map((i) => lane(`dl-${i}`));
const deadline = pool('deadline', { members: dlLanes, failover: { deadline_secs: 1, cap: 3 } });

const requestsTo = (f: Fleet, names: readonly string[]): number =>
  names.reduce((n, name) => n + f.mock(name).requests.length, 0);

describe('reliability: failover and dispositions', { concurrency: true }, () => {
  let f: Fleet;
  before(async () => {
    f = await startFleet(lanes, pools);
  });
  after(async () => {
    await f?.stop();
  });

  it('a pool [failing, healthy] answers every request; the failing lane is then skipped', async () => {
    failRepeatedly(f.mock(pairFailing), 100, { status: 500 });
    const burst = await Promise.all(
      Array.from({ length: 20 }, (_, i) => f.client.chat(pair, { prompt: `burst ${i}` })),
    );
    assert.deepEqual(
      burst.map((r) => r.status),
      Array(20).fill(200),
    );
    assert.ok(burst.every((r) => servedBy(r) === pairHealthy));
    assert.equal(f.mock(pairHealthy).requests.length, 20, 'each request served exactly once');
    const failedBefore = f.mock(pairFailing).requests.length;
    assert.ok(failedBefore >= 1, 'the failing member was tried');
    for (let i = 0; i < 5; i++) {
      const r = await f.client.chat(pair);
      assert.equal(r.status, 200);
      assert.equal(servedBy(r), pairHealthy);
    }
    assert.equal(f.mock(pairFailing).requests.length, failedBefore, 'cooling lane gets no traffic');
    const stats = await f.client.lane(pairFailing);
    assert.equal(stats.usable, false);
    assert.equal(stats.err, failedBefore);
    assert.ok(stats.cooldown_remaining_s >= 20, JSON.stringify(stats));
  });

  it('G-TST-7 direct route: an upstream 400 is relayed byte-for-byte, client_fault +1, breaker untouched', async () => {
    const body =
      '{"error": {"message": "temperature out of range", "type": "invalid_request_error", "param": "temperature", "code": null}}';
    f.mock(direct400).enqueue({ status: 400, body, headers: { 'content-type': 'application/json' } });
    const res = await f.client.chat(direct400);
    assert.equal(res.status, 400);
    assert.equal(res.body, body);
    assert.match(res.headers['content-type'] ?? '', /application\/json/);
    const stats = await f.client.lane(direct400);
    assert.deepEqual(
      [stats.client_fault, stats.err, stats.streak, stats.cooldown_remaining_s, stats.usable],
      [1, 0, 0, 0, true],
    );
    assert.equal(f.mock(direct400).requests.length, 1);
    // The lane still serves at once.
    assert.equal((await f.client.chat(direct400)).status, 200);
  });

  it('a 400 inside a pool is relayed, does not fail over and trips nothing', async () => {
    f.mock(cfA).enqueue({ status: 400, message: 'bad request from cf-a' });
    const res = await f.client.chat(cf);
    assert.equal(res.status, 400);
    assert.equal(openaiError(res).message, 'bad request from cf-a');
    assert.equal(f.mock(cfB).requests.length, 0, 'no failover on a client fault');
    const stats = await f.client.lane(cfA);
    assert.deepEqual(
      [stats.client_fault, stats.err, stats.streak, stats.cooldown_remaining_s, stats.usable],
      [1, 0, 0, 0, true],
    );
    // cf-a stays in rotation: SWRR keeps alternating over both members.
    const next = [await f.client.chat(cf), await f.client.chat(cf)];
    assert.deepEqual(
      next.map((r) => r.status),
      [200, 200],
    );
    assert.deepEqual(next.map(servedBy).sort(), [cfA, cfB]);
  });

  it('G-TST-6 direct route: an upstream 500 becomes 503 overloaded with Retry-After ≈ 30 s, body not relayed', async () => {
    f.mock(direct500).enqueue({ status: 500, message: 'internal-detail-do-not-leak' });
    const res = await f.client.chat(direct500);
    assert.equal(res.status, 503);
    const err = openaiError(res);
    assert.equal(err.type, 'overloaded_error');
    assert.equal(err.message, OVERLOADED);
    assert.doesNotMatch(res.body, /internal-detail-do-not-leak/);
    const retryAfter = Number(res.headers['retry-after']);
    assert.ok(retryAfter >= 26 && retryAfter <= 33, `Retry-After ${res.headers['retry-after']}`);
    assert.equal(f.mock(direct500).requests.length, 1, 'a direct route has one candidate');
    const stats = await f.client.lane(direct500);
    assert.deepEqual([stats.err, stats.streak, stats.usable], [1, 1, false]);
    assert.ok(stats.cooldown_remaining_s >= 26 && stats.cooldown_remaining_s <= 33);
  });

  it('G-TST-9 / G-FO-9 a 401 benches the lane in every pool and the direct route; the client gets its native 401', async () => {
    // Create auth-x's cell in auth-p2 first, so the hard-down must reach an existing pool cell too.
    const warm = await f.client.chat(authP2);
    assert.equal(warm.status, 200);
    assert.equal(servedBy(warm), authX);
    f.mock(authX).enqueue({ status: 401, message: 'upstream-key-detail sk-upstream-secret' });
    const yBefore = f.mock(authY).requests.length;
    const res = await f.client.chat(authP1);
    assert.equal(res.status, 401);
    const err = openaiError(res);
    assert.equal(err.type, 'authentication_error');
    assert.equal(err.code, 'invalid_api_key');
    assert.doesNotMatch(
      res.body,
      /upstream-key-detail|sk-upstream-secret/,
      'the upstream body is never relayed',
    );
    assert.equal(f.mock(authY).requests.length, yBefore, 'no failover after an auth hard-down');

    const stats = await f.client.lane(authX);
    assert.match(stats.dead_reason, /401/);
    assert.equal(stats.dead, false);
    assert.equal(stats.usable, false);
    assert.ok(
      stats.cooldown_remaining_s >= 1799 && stats.cooldown_remaining_s <= 1800,
      JSON.stringify(stats),
    );

    const xBefore = f.mock(authX).requests.length;
    const later = await Promise.all([
      f.client.chat(authP1),
      f.client.chat(authP1),
      f.client.chat(authP2),
      f.client.chat(authP2),
    ]);
    assert.deepEqual(
      later.map((r) => [r.status, servedBy(r)]),
      Array(4).fill([200, authY]),
    );
    const direct = await f.client.chat(authX);
    assert.equal(direct.status, 503);
    assert.ok(Number(direct.headers['retry-after']) >= 1799, `Retry-After ${direct.headers['retry-after']}`);
    assert.equal(f.mock(authX).requests.length, xBefore, 'the benched lane gets no traffic anywhere');
  });

  it('G-FO-9 the bad-credential answer follows the ingress protocol (Anthropic client, OpenAI lane)', async () => {
    f.mock(authAnth).enqueue({ status: 401, message: 'upstream-key-detail' });
    const { path, body } = rawRequest('anthropic', authAnth, false);
    const res = await f.client.post(path, body);
    assert.equal(res.status, 401);
    const parsed = json<{ type: string; error: { type: string; message: string } }>(res);
    assert.equal(parsed.type, 'error');
    assert.equal(parsed.error.type, 'authentication_error');
    assert.doesNotMatch(res.body, /upstream-key-detail/);
    assert.match((await f.client.lane(authAnth)).dead_reason, /401/);
  });

  it('G-TST-9 insufficient_quota (catalog: billing) hard-downs every cell of the lane for 1800 s and fails over', async () => {
    // Give bill-x a second pool cell before the hard-down.
    const warm = await f.client.chat(billSolo);
    assert.equal(warm.status, 200);
    f.mock(billX).enqueue({
      status: 429,
      body: openaiErrorBody('You exceeded your current quota.', 'insufficient_quota', 'insufficient_quota'),
    });
    const res = await f.client.chat(bill);
    assert.equal(res.status, 200, res.body);
    assert.equal(servedBy(res), billY, 'billing hard-down fails over');
    assert.equal(f.mock(billX).requests.length, 2);
    const stats = await f.client.lane(billX);
    assert.match(stats.dead_reason, /billing/);
    assert.equal(stats.usable, false);
    assert.ok(
      stats.cooldown_remaining_s >= 1799 && stats.cooldown_remaining_s <= 1800,
      JSON.stringify(stats),
    );
    // Every cell: the other pool and the direct route now refuse the lane without calling it.
    const solo = await f.client.chat(billSolo);
    assert.equal(solo.status, 503);
    assert.ok(Number(solo.headers['retry-after']) >= 1799, `Retry-After ${solo.headers['retry-after']}`);
    const direct = await f.client.chat(billX);
    assert.equal(direct.status, 503);
    assert.ok(Number(direct.headers['retry-after']) >= 1799);
    assert.equal(f.mock(billX).requests.length, 2);
  });

  it('G-TST-8 a context-length error excludes the member and every smaller one; no breaker change', async () => {
    f.mock(ctxA).enqueue({
      status: 400,
      body: openaiErrorBody(
        'This model maximum context length is 200000 tokens.',
        'invalid_request_error',
        'context_length_exceeded',
      ),
    });
    const res = await f.client.chat(ctx);
    assert.equal(res.status, 200, res.body);
    assert.ok([ctxC, ctxD].includes(servedBy(res)), `served by ${servedBy(res)}`);
    assert.equal(f.mock(ctxA).requests.length, 1);
    assert.equal(f.mock(ctxB).requests.length, 0, 'the smaller member (128k) is excluded');
    const a = await f.client.lane(ctxA);
    assert.deepEqual([a.err, a.client_fault, a.streak, a.cooldown_remaining_s, a.usable], [0, 0, 0, 0, true]);
  });

  it('G-TST-8 the same code on a 503 is a transient failure instead (penalised, fails over to any member)', async () => {
    f.mock(ctx5A).enqueue({
      status: 503,
      body: openaiErrorBody('context_length_exceeded', 'server_error', 'context_length_exceeded'),
    });
    const res = await f.client.chat(ctx5);
    assert.equal(res.status, 200, res.body);
    assert.equal(servedBy(res), ctx5B, 'the smaller member is not excluded by a 5xx');
    const a = await f.client.lane(ctx5A);
    assert.deepEqual([a.err, a.streak, a.usable], [1, 1, false]);
    assert.ok(a.cooldown_remaining_s > 0);
  });

  it('G-FO-15 a context-length error with no larger member left exhausts: 503, not the upstream 400', async () => {
    f.mock(ctxBig).enqueue({
      status: 400,
      body: openaiErrorBody('too long', 'invalid_request_error', 'context_length_exceeded'),
    });
    const res = await f.client.chat(ctxMax);
    assert.equal(res.status, 503);
    assert.equal(openaiError(res).type, 'overloaded_error');
    assert.ok(Number(res.headers['retry-after']) >= 1);
    assert.equal(f.mock(ctxSmall).requests.length, 0);
    const big = await f.client.lane(ctxBig);
    assert.deepEqual([big.err, big.streak, big.cooldown_remaining_s], [0, 0, 0]);
  });

  it('G-FO-6 a connection reset before the answer fails over and counts a failure', async () => {
    f.mock(trA).enqueue({ resetConnection: true });
    const res = await f.client.chat(tr);
    assert.equal(res.status, 200, res.body);
    assert.equal(servedBy(res), trB);
    const a = await f.client.lane(trA);
    assert.deepEqual([a.err, a.streak, a.usable], [1, 1, false]);
  });

  it('G-FO-14/16 a stream cut after the first byte does not fail over: native error event, breaker failure', async () => {
    f.mock(cutA).enqueue({ cutStreamAfterChunks: 2, chunkDelayMs: 20 });
    const res = await f.client.chat(cut, { stream: true });
    assert.equal(res.status, 200);
    assert.match(res.body, /chat\.completion\.chunk/, 'the first chunks reached the client');
    assert.equal(f.mock(cutB).requests.length, 0, 'no failover after the first byte');
    const a = await f.client.lane(cutA);
    assert.deepEqual(
      { err: a.err, streak: a.streak, inflight: a.inflight, cooling: a.cooldown_remaining_s > 0 },
      { err: 1, streak: 1, inflight: 0, cooling: true },
      'the cut counts one breaker failure',
    );
    assert.equal(res.cut, false, 'the gateway ends the response cleanly instead of dropping the connection');
    assert.match(res.body, /^data: \{"error":/m, `stream ends with an error event: ${res.body}`);
    // Nothing but the terminator may follow the error chunk (P-STR-8: an error chunk, then the end).
    const afterError = res.body
      .slice(res.body.search(/^data: \{"error":/m))
      .split('\n\n')
      .slice(1);
    assert.ok(
      afterError.every((e) => e.trim() === '' || e.trim() === 'data: [DONE]'),
      res.body,
    );
  });

  it('G-FO-16 the OpenAI SDK raises an APIError when the stream is cut mid-way', async () => {
    f.mock(cutSdk).enqueue({ cutStreamAfterChunks: 2, chunkDelayMs: 20 });
    const client = new OpenAI({
      baseURL: `${f.gw.url}/v1`,
      apiKey: TOKEN,
      maxRetries: 0,
      fetch: ((url: string, init: object) =>
        undiciFetch(url, { ...init, dispatcher: f.client.agent })) as unknown as typeof fetch,
    });
    const stream = await client.chat.completions.create({
      model: cutSdk,
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    let text = '';
    await assert.rejects(
      async () => {
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      },
      (e: unknown) => e instanceof OpenAI.APIError,
    );
    assert.ok(text.length > 0, 'the first deltas arrived before the error');
    assert.equal((await f.client.lane(cutSdk)).err, 1);
  });

  it('G-FO-16 a cross-protocol stream (Anthropic lane → OpenAI client) cut mid-way ends with an error event', async () => {
    f.mock(cutX).enqueue({ cutStreamAfterChunks: 3, chunkDelayMs: 20 });
    const res = await f.client.chat(cutX, { stream: true });
    assert.equal(res.status, 200);
    assert.match(res.body, /^data: \{"error":/m, `stream ends with an error event: ${res.body}`);
    assert.doesNotMatch(res.body, /127\.0\.0\.1|ECONNRESET|socket/i, 'no transport details leak');
    const x = await f.client.lane(cutX);
    assert.deepEqual([x.err, x.streak], [1, 1]);
  });

  it('a 429 with Retry-After: 90 benches the lane for ≥ 89 s and fails over', async () => {
    f.mock(raA).enqueue({ status: 429, headers: { 'retry-after': '90' } });
    const res = await f.client.chat(ra);
    assert.equal(res.status, 200);
    assert.equal(servedBy(res), raB);
    const a = await f.client.lane(raA);
    assert.ok(a.cooldown_remaining_s >= 89 && a.cooldown_remaining_s <= 90, JSON.stringify(a));
  });

  it('cross-protocol failover: an Anthropic member fails with 529, the OpenAI member answers the OpenAI client', async () => {
    f.mock(xpAnth).enqueue({ status: 529, message: 'Overloaded' });
    const res = await f.client.chat(xp);
    assert.equal(res.status, 200, res.body);
    const body = json<{ object: string; model: string; choices: { message: { content: string } }[] }>(res);
    assert.equal(body.object, 'chat.completion');
    assert.equal(body.model, xpOai);
    assert.equal(body.choices[0]?.message.content, 'Hello from openai mock');
    const sent = f.mock(xpAnth).requests[0];
    assert.equal(sent?.protocol, 'anthropic', 'the first hop was translated to the Anthropic wire');
    assert.equal(sent?.model, xpAnth);
    assert.equal(f.mock(xpOai).requests[0]?.protocol, 'openai');
    const a = await f.client.lane(xpAnth);
    assert.deepEqual([a.err, a.streak], [1, 1]);
  });

  it('G-FO-20 on_exhausted reject: 503 overloaded with Retry-After = smallest member cooldown', async () => {
    f.mock(rjA).enqueue({ status: 500 });
    f.mock(rjB).enqueue({ status: 502 });
    const res = await f.client.chat(rj);
    assert.equal(res.status, 503);
    const err = openaiError(res);
    assert.equal(err.type, 'overloaded_error');
    assert.equal(err.message, OVERLOADED);
    const [a, b] = [await f.client.lane(rjA), await f.client.lane(rjB)];
    const retryAfter = Number(res.headers['retry-after']);
    assert.ok(retryAfter >= 26 && retryAfter <= 33, `Retry-After ${res.headers['retry-after']}`);
    assert.ok(
      Math.abs(retryAfter - Math.min(a.cooldown_remaining_s, b.cooldown_remaining_s)) <= 1,
      `Retry-After ${retryAfter} vs cooldowns ${a.cooldown_remaining_s}/${b.cooldown_remaining_s}`,
    );
  });

  it('G-FO-21 least_bad: one degraded attempt on the member with the least remaining cooldown', async () => {
    f.mock(lbP).enqueue({ status: 429, headers: { 'retry-after': '100' } });
    f.mock(lbQ).enqueue({ status: 429, headers: { 'retry-after': '50' } });
    // Both members fail; least_bad sends one more attempt to lb-q (50 s < 100 s), which answers.
    const first = await f.client.chat(lb);
    assert.equal(first.status, 200, first.body);
    assert.equal(servedBy(first), lbQ);
    assert.deepEqual([f.mock(lbP).requests.length, f.mock(lbQ).requests.length], [1, 2]);

    // Nothing is ready now: straight to least_bad; the degraded path relays any HTTP answer verbatim.
    const upstream503 =
      '{"error": {"message": "degraded answer", "type": "api_error", "param": null, "code": null}}';
    f.mock(lbQ).enqueue({ status: 503, body: upstream503 });
    const second = await f.client.chat(lb);
    assert.equal(second.status, 503);
    assert.equal(second.body, upstream503);
    assert.deepEqual([f.mock(lbP).requests.length, f.mock(lbQ).requests.length], [1, 3]);

    // A transport failure on the degraded attempt → reject with Retry-After, and it counts as a failure.
    const errBefore = (await f.client.lane(lbQ)).err;
    f.mock(lbQ).enqueue({ resetConnection: true });
    const third = await f.client.chat(lb);
    assert.equal(third.status, 503);
    assert.equal(openaiError(third).message, OVERLOADED);
    assert.ok(Number(third.headers['retry-after']) >= 1);
    assert.deepEqual([f.mock(lbP).requests.length, f.mock(lbQ).requests.length], [1, 4]);
    assert.equal(
      (await f.client.lane(lbQ)).err,
      errBefore + 1,
      'G-BRK-8: a recorded failure counts in lane err',
    );
  });

  it('G-POOL-11 least_bad never targets a drained (weight 0) member', async () => {
    f.mock(lbxP).enqueue({ resetConnection: true });
    const res = await f.client.chat(lbx);
    // lbx-q (drained, no cooldown) would be "least bad"; lbx-p is the only eligible target.
    assert.equal(res.status, 200, res.body);
    assert.equal(servedBy(res), lbxP);
    assert.equal(f.mock(lbxQ).requests.length, 0);
    assert.equal(f.mock(lbxP).requests.length, 2);
  });

  it('G-FO-22 fallback_pool: the fallback pool serves, attempted lanes stay excluded, answers relayed', async () => {
    f.mock(fbA).enqueue({ status: 500 });
    const res = await f.client.chat(fbPrimary);
    assert.equal(res.status, 200, res.body);
    assert.equal(servedBy(res), fbB);
    assert.equal(f.mock(fbA).requests.length, 1, 'fb-a (attempted) is not retried in the fallback pool');
    // The degraded path relays the fallback member's error as-is.
    const upstream502 =
      '{"error": {"message": "fallback says no", "type": "api_error", "param": null, "code": null}}';
    f.mock(fbB).enqueue({ status: 502, body: upstream502 });
    const second = await f.client.chat(fbPrimary);
    assert.equal(second.status, 502);
    assert.equal(second.body, upstream502);
    assert.equal(f.mock(fbA).requests.length, 1, 'fb-a is cooling down in fb-primary');
  });

  it('G-FO-22 fallback chains walk several levels, each pool applying its own on_exhausted', async () => {
    f.mock(chA).enqueue({ status: 500 });
    f.mock(chB).enqueue({ resetConnection: true });
    const res = await f.client.chat(chain1);
    assert.equal(res.status, 200, res.body);
    assert.equal(servedBy(res), chC);
    assert.deepEqual(
      [chA, chB, chC].map((n) => f.mock(n).requests.length),
      [1, 1, 1],
    );
  });

  it('G-FO-1 failover.cap bounds the attempts: cap 2 → exactly 3 upstream calls, then 503', async () => {
    for (const name of capLanes) f.mock(name).enqueue({ status: 500 });
    const res = await f.client.chat(capped);
    assert.equal(res.status, 503);
    assert.equal(openaiError(res).message, OVERLOADED);
    assert.equal(requestsTo(f, capLanes), 3);
  });

  it('G-FO-1/3 the deadline bounds the attempts: slow failures stop at the deadline with 503 "timed out"', async () => {
    for (const name of dlLanes) f.mock(name).enqueue({ status: 500, delayMs: 700 });
    const res = await f.client.chat(deadline);
    assert.equal(res.status, 503);
    const err = openaiError(res);
    assert.equal(err.type, 'overloaded_error');
    assert.equal(err.message, TIMED_OUT);
    assert.equal(res.headers['retry-after'], undefined, 'a timeout carries no Retry-After');
    // Two 700 ms attempts exhaust a 1 s deadline (one, on a loaded machine); cap 3 alone would allow 4.
    // The exact count is held on the injected clock in test/lifecycle/deadline.test.ts.
    const attempts = requestsTo(f, dlLanes);
    assert.ok(attempts >= 1 && attempts <= 2, `${attempts} attempts`);
  });
});

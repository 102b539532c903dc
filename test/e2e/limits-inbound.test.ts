// `limits: max_inbound_concurrent` (issue 14, item 5): a request's slot comes back exactly once
// however it ends (client gone while waiting or mid-stream, an upstream error, a refused
// credential, a shed), and under `workers: N` each process counts its own requests.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Agent } from 'undici';
import { type Gateway, startGateway } from '../support/gateway-process.ts';
import { type MockUpstream, startMockUpstream } from '../support/mock-upstream.ts';
import { rawRequest } from '../support/raw-requests.ts';
import { logRecords } from '../support/request-log-file.ts';

const TOKEN = 'inbound-token';
const HEADERS = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

function inboundGateway(mock: MockUpstream, extra: string[]): Promise<Gateway> {
  return startGateway({
    providersYaml: `up:\n  protocol: openai\n  base_url: ${mock.url}\n`,
    configYaml: [
      'listen: 127.0.0.1:0',
      `auth:\n  mode: token\n  client_tokens: [${TOKEN}]`,
      'providers:\n  up: {api_key_env: INBOUND_KEY}',
      'models:\n  m: {provider: up, max_concurrent: 64}',
      ...extra,
    ].join('\n'),
    env: { INBOUND_KEY: 'sk-inbound' },
  });
}

/**
 * The suite's own client, closed before its gateway stops: a connection the client opened and
 * never used would hold the gateway's drain until the header timeout.
 */
let agent = new Agent();

/** A chat request for `m`, on `dispatcher` (its own, so the cluster can place it) or the suite's client. */
function chat(
  gw: Gateway,
  opts: { stream?: boolean; signal?: AbortSignal; dispatcher?: Agent; token?: string } = {},
): Promise<Response> {
  return fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { ...HEADERS, authorization: `Bearer ${opts.token ?? TOKEN}` },
    body: rawRequest('openai', 'm', opts.stream === true).body,
    signal: opts.signal,
    dispatcher: opts.dispatcher ?? agent,
  } as RequestInit);
}

async function until(what: string, ok: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 250; i++) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`timed out waiting until ${what}`);
}

/** Sends `n` requests at once to an upstream that holds each `holdMs`; the statuses in order. */
async function burst(gw: Gateway, mock: MockUpstream, n: number, holdMs: number): Promise<number[]> {
  mock.enqueue(...Array.from({ length: n }, () => ({ delayMs: holdMs })));
  return Promise.all(
    Array.from({ length: n }, async () => {
      const own = new Agent({ pipelining: 0 });
      const r = await chat(gw, { dispatcher: own });
      await r.arrayBuffer();
      await own.close();
      return r.status;
    }),
  );
}

/** /stats' count of requests in progress in the gateway. */
async function inboundNow(gw: Gateway): Promise<{ in_flight: number; max: number }> {
  const r = await fetch(`${gw.url}/stats`, { headers: HEADERS, dispatcher: agent } as RequestInit);
  return ((await r.json()) as { inbound: { in_flight: number; max: number } }).inbound;
}

const count = (statuses: number[], status: number): number => statuses.filter((s) => s === status).length;

describe('max_inbound_concurrent: every way a request ends gives its slot back once', () => {
  let mock: MockUpstream;
  let gw: Gateway;
  let dir: string;
  let logFile: string;
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'busbar-inbound-'));
    logFile = path.join(dir, 'requests.jsonl');
    agent = new Agent();
    mock = await startMockUpstream();
    gw = await inboundGateway(mock, [
      'limits:\n  max_inbound_concurrent: 2',
      `observability:\n  request_log_file: ${logFile}`,
    ]);
  });
  after(async () => {
    await gw?.stop();
    await mock?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('after aborts, an upstream error and a refused credential, 2 of 3 held requests are served', async () => {
    // Two requests fill both slots: one waits for a head that is 3 s away, one is mid-stream.
    mock.enqueue({ delayMs: 3000 }, { text: 'a b c d e f g h', chunkDelayMs: 250 });
    // Each on a client of its own, so the suite's client never reconnects after an abort.
    const leaving = [new Agent(), new Agent()] as const;
    const waiting = new AbortController();
    const waited = chat(gw, { signal: waiting.signal, dispatcher: leaving[0] }).catch(() => 'aborted');
    await until('the upstream has the first request', () => mock.requests.length === 1);
    const streaming = new AbortController();
    const stream = await chat(gw, { stream: true, signal: streaming.signal, dispatcher: leaving[1] });
    assert.equal(stream.status, 200);
    await stream.body!.getReader().read();
    // Full: the next one is shed.
    const shed = await chat(gw);
    assert.equal(shed.status, 503);
    await shed.arrayBuffer();
    assert.deepEqual(await inboundNow(gw), { in_flight: 2, max: 2 });
    waiting.abort();
    streaming.abort();
    assert.equal(await waited, 'aborted');
    await Promise.all(leaving.map((a) => a.destroy()));
    // The gateway hears of both departures a moment later; /stats shows when it has.
    await until('both slots are back', async () => (await inboundNow(gw)).in_flight === 0);
    // An upstream error relayed to the client, and a refused credential.
    mock.enqueue({ status: 400, message: 'bad' });
    const failed = await chat(gw);
    assert.equal(failed.status, 400);
    await failed.arrayBuffer();
    const refused = await chat(gw, { token: 'wrong' });
    assert.equal(refused.status, 401);
    await refused.arrayBuffer();
    // All five have finished: the aborted exchanges were dropped upstream, and the answered ones
    // are in the request log (which leaves out a refused credential and a client gone before any
    // answer). A slot is returned before finish is reported.
    await until('both aborted exchanges are dropped', () =>
      mock.requests.slice(0, 2).every((r) => r.cancelled),
    );
    const dispositions = (await logRecords(logFile, 3)).map((r) => r.disposition).sort();
    assert.deepEqual(dispositions, ['client_gone', 'shed', 'upstream_error']);

    // Neither leaked (fewer than 2 served) nor given back twice (3 served).
    const statuses = await burst(gw, mock, 3, 600);
    assert.deepEqual([count(statuses, 200), count(statuses, 503)], [2, 1], `statuses ${statuses}`);
  });
});

describe('max_inbound_concurrent: only authenticated requests hold a slot', () => {
  let mock: MockUpstream;
  let gw: Gateway;
  before(async () => {
    agent = new Agent();
    mock = await startMockUpstream();
    gw = await inboundGateway(mock, ['limits:\n  max_inbound_concurrent: 1']);
  });
  after(async () => {
    await agent.destroy();
    await gw?.stop();
    await mock?.close();
  });

  it('bodies declared over the cap, left unsent by a caller without a credential, shed nobody', async () => {
    // Each is refused with 413 only once its body has been sent (up to 10 s): it stays in progress.
    const { port } = new URL(gw.url);
    const answered: boolean[] = [];
    const sockets = [0, 1, 2].map((i) => {
      answered[i] = false;
      const s = net.connect(Number(port), '127.0.0.1', () =>
        s.write(
          'POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100000000\r\n\r\n{',
        ),
      );
      s.on('data', () => {
        answered[i] = true;
      });
      s.on('error', () => {});
      return s;
    });
    try {
      await new Promise((r) => setTimeout(r, 300));
      mock.enqueue({ delayMs: 300 });
      const r = await chat(gw);
      assert.equal(r.status, 200);
      await r.arrayBuffer();
      assert.deepEqual(answered, [false, false, false], 'the oversized requests were still in progress');
    } finally {
      for (const s of sockets) s.destroy();
    }
  });
});

describe('max_inbound_concurrent under workers: 2', () => {
  let mock: MockUpstream;
  let gw: Gateway;
  before(async () => {
    agent = new Agent();
    mock = await startMockUpstream();
    gw = await inboundGateway(mock, ['workers: 2', 'limits:\n  max_inbound_concurrent: 2']);
  });
  after(async () => {
    await agent.destroy();
    await gw?.stop();
    await mock?.close();
  });

  it('each worker sheds past its own count, and startup says so', async () => {
    assert.match(
      gw.stderr(),
      /\[warn\] workers is 2: each worker process sheds past its own limits\.max_inbound_concurrent \(2\), so the node admits up to 2 × 2 = 4 inference requests in progress/,
    );
    // Six at once over fresh connections, spread over both workers: more than one process's 2
    // are served (each counts only its own), never more than both processes' 4.
    const statuses = await burst(gw, mock, 6, 800);
    const served = count(statuses, 200);
    assert.equal(served + count(statuses, 503), 6, `statuses ${statuses}`);
    assert.ok(served >= 3 && served <= 4, `served ${served} of 6: ${statuses}`);
  });
});

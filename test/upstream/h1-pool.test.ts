// The upstream HTTP/1.1 pool against a raw TCP server that writes exactly the bytes each test wants:
// keep-alive reuse and its limits, the connection cap, backpressure, aborts, and upstreams that
// cut answers short or send more than they were asked.

import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { DispatchController, DispatchHandler, DispatchOptions } from '../../src/upstream/dispatch.ts';
import { H1Pool } from '../../src/upstream/h1-pool.ts';

/** What the raw server does with each request it reads (one request per call). */
type Reply = (socket: Socket, request: string) => void;

let server: Server;
let origin: string;
let reply: Reply;
let connections = 0;
const requests: string[] = [];

before(async () => {
  server = createServer((socket) => {
    connections++;
    let buffered = '';
    socket.on('data', (d) => {
      buffered += d.toString('latin1');
      for (;;) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end < 0) return;
        const length = Number(/content-length: (\d+)/i.exec(buffered.slice(0, end))?.[1] ?? 0);
        if (buffered.length < end + 4 + length) return;
        const request = buffered.slice(0, end + 4 + length);
        buffered = buffered.slice(end + 4 + length);
        requests.push(request);
        reply(socket, request);
      }
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

const ok = (body: string, extra = ''): string =>
  `HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n${extra}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

interface Outcome {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  error: Error | undefined;
}

/** A handler that collects the answer; `onData` may pause or abort through the controller. */
function collect(onData?: (c: DispatchController, chunk: Buffer) => void): {
  handler: DispatchHandler;
  done: Promise<Outcome>;
  controller: () => DispatchController;
} {
  const out: Outcome = { status: 0, headers: {}, body: '', error: undefined };
  let controller: DispatchController | undefined;
  let settle: (o: Outcome) => void = () => {};
  const done = new Promise<Outcome>((resolve) => {
    settle = resolve;
  });
  const handler: DispatchHandler = {
    onRequestStart: (c) => {
      controller = c;
    },
    onResponseStart: (_c, status, headers) => {
      out.status = status;
      out.headers = headers;
    },
    onResponseData: (c, chunk) => {
      out.body += chunk.toString();
      onData?.(c, chunk);
    },
    onResponseEnd: () => settle(out),
    onResponseError: (_c, err) => {
      out.error = err;
      settle(out);
    },
  };
  return { handler, done, controller: () => controller! };
}

const post = (body = '{}', headers: Record<string, string> = {}): DispatchOptions => ({
  path: '/v1/chat/completions',
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body,
});

async function send(pool: H1Pool, options = post()): Promise<Outcome> {
  const c = collect();
  pool.dispatch(options, c.handler);
  return c.done;
}

const newPool = (connections = 0, idleMs = 30_000): H1Pool =>
  new H1Pool(origin, { connections, idleMs, connectTimeoutMs: 2000 });

describe('upstream HTTP/1.1 pool', () => {
  test('writes one well-formed request and reuses the connection for the next', async () => {
    reply = (s) => s.write(ok('hi'));
    const pool = newPool();
    const before = connections;
    requests.length = 0;
    const a = await send(pool, post('{"a":1}', { authorization: 'Bearer k' }));
    const b = await send(pool);
    assert.equal(a.status, 200);
    assert.equal(a.body, 'hi');
    assert.equal(a.headers['content-type'], 'text/plain');
    assert.equal(b.body, 'hi');
    assert.equal(connections - before, 1);
    assert.equal(
      requests[0],
      `POST /v1/chat/completions HTTP/1.1\r\nhost: ${new URL(origin).host}\r\ncontent-type: application/json\r\n` +
        'authorization: Bearer k\r\ncontent-length: 7\r\n\r\n{"a":1}',
    );
    await pool.close();
  });

  test('a host header given with the request replaces the origin (a signed request names it)', async () => {
    reply = (s) => s.write(ok('ok'));
    const pool = newPool();
    requests.length = 0;
    await send(pool, post('{}', { host: 'bedrock-runtime.us-east-1.amazonaws.com' }));
    assert.match(requests[0]!, /^POST \S+ HTTP\/1.1\r\nhost: bedrock-runtime.us-east-1.amazonaws.com\r\n/);
    assert.equal(requests[0]!.match(/host:/gi)?.length, 1);
    await pool.close();
  });

  test('connection: close, a short keep-alive hint, and bytes past the answer each retire the connection', async () => {
    for (const wire of [
      ok('x', 'connection: close\r\n'),
      ok('x', 'keep-alive: timeout=1\r\n'),
      `${ok('x')}JUNK`,
    ]) {
      reply = (s) => s.write(wire);
      const pool = newPool();
      const before = connections;
      assert.equal((await send(pool)).body, 'x');
      reply = (s) => s.write(ok('y'));
      assert.equal((await send(pool)).body, 'y');
      assert.equal(connections - before, 2, JSON.stringify(wire));
      await pool.close();
    }
  });

  test('a connection idle past its limit is not reused', async () => {
    reply = (s) => s.write(ok('x'));
    const pool = newPool(0, 50);
    const before = connections;
    await send(pool);
    await new Promise((r) => setTimeout(r, 80));
    await send(pool);
    assert.equal(connections - before, 2);
    await pool.close();
  });

  test('the connection cap queues requests instead of opening more', async () => {
    const held: Socket[] = [];
    reply = (s) => held.push(s);
    const pool = newPool(1);
    const before = connections;
    const answers = [send(pool), send(pool), send(pool)];
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(connections - before, 1);
    for (let i = 0; i < 3; i++) {
      while (held.length === 0) await new Promise((r) => setTimeout(r, 5));
      held.shift()!.write(ok(`n${i}`));
    }
    assert.deepEqual(
      (await Promise.all(answers)).map((a) => a.body),
      ['n0', 'n1', 'n2'],
    );
    await pool.close();
  });

  test('a paused handler stops the flow; resume delivers the rest and the end', async () => {
    const body = 'z'.repeat(200_000);
    reply = (s) => s.write(ok(body));
    const pool = newPool();
    let paused = 0;
    const c = collect((controller) => {
      controller.pause();
      paused++;
      setTimeout(() => controller.resume(), 1);
    });
    pool.dispatch(post(), c.handler);
    const out = await c.done;
    assert.equal(out.body.length, body.length);
    assert.ok(paused >= 1);
    assert.equal((await send(pool)).body.length, body.length, 'the connection is reusable after');
    await pool.close();
  });

  test('an upstream that closes mid-body fails the exchange; a body framed by the close ends with it', async () => {
    reply = (s) => s.end('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nshort');
    const pool = newPool();
    const cut = await send(pool);
    assert.equal(cut.body, 'short');
    assert.match(String(cut.error), /upstream connection failed/);
    reply = (s) => s.end('HTTP/1.1 200 OK\r\n\r\nuntil the close');
    const whole = await send(pool);
    assert.equal(whole.error, undefined);
    assert.equal(whole.body, 'until the close');
    reply = (s) => s.end('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhel');
    assert.match(String((await send(pool)).error), /upstream connection failed/);
    await pool.close();
  });

  test('a malformed answer fails the exchange and the next request gets a fresh connection', async () => {
    reply = (s) => s.write('HTTP/1.1 200 OK\r\ncontent-length: 1\r\ntransfer-encoding: chunked\r\n\r\n');
    const pool = newPool();
    assert.match(String((await send(pool)).error), /malformed upstream response/);
    reply = (s) => s.write(ok('fine'));
    assert.equal((await send(pool)).body, 'fine');
    await pool.close();
  });

  test('an abort mid-body reports the reason once and retires the connection', async () => {
    reply = (s) => s.write('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc');
    const pool = newPool();
    const before = connections;
    const reason = new Error('client left');
    let errors = 0;
    const c = collect((controller) => controller.abort(reason));
    const handler = {
      ...c.handler,
      onResponseError: (ctl: DispatchController | undefined, err: Error) => {
        errors++;
        c.handler.onResponseError(ctl, err);
      },
    };
    pool.dispatch(post(), handler);
    assert.equal((await c.done).error, reason);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(errors, 1);
    reply = (s) => s.write(ok('next'));
    assert.equal((await send(pool)).body, 'next');
    assert.equal(connections - before, 2);
    await pool.close();
  });

  test('an abort while queued fails only that request', async () => {
    const held: Socket[] = [];
    reply = (s) => held.push(s);
    const pool = newPool(1);
    const first = send(pool);
    const queued = collect();
    pool.dispatch(post(), queued.handler);
    queued.controller().abort(new Error('gave up'));
    assert.match(String((await queued.done).error), /gave up/);
    while (held.length === 0) await new Promise((r) => setTimeout(r, 5));
    held[0]!.write(ok('first'));
    assert.equal((await first).body, 'first');
    await pool.close();
  });

  test('a header value or path that would split the request is refused before any byte is sent', async () => {
    reply = (s) => s.write(ok('x'));
    const pool = newPool();
    requests.length = 0;
    const injected = await send(pool, post('{}', { 'x-forwarded': 'a\r\nx-evil: 1' }));
    assert.match(String(injected.error), /invalid request header/);
    const badPath = await send(pool, { ...post(), path: '/v1 HTTP/1.1\r\nx: y' });
    assert.match(String(badPath.error), /invalid request path/);
    assert.equal(requests.length, 0);
    assert.equal((await send(pool)).body, 'x', 'the pool still serves');
    await pool.close();
  });

  test('an answer that comes before the request is written does not leave the connection in use', {
    timeout: 10_000,
  }, async () => {
    let accepted = 0;
    const early = createServer((socket) => {
      accepted++;
      let answered = false;
      socket.on('data', () => {
        if (!answered) socket.write(ok('early'));
        answered = true;
      });
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => early.listen(0, '127.0.0.1', resolve));
    const pool = new H1Pool(`http://127.0.0.1:${(early.address() as AddressInfo).port}`, {
      connections: 0,
      idleMs: 10_000,
      connectTimeoutMs: 1000,
    });
    assert.equal((await send(pool, post('x'.repeat(32 * 1024 * 1024)))).body, 'early');
    assert.equal((await send(pool)).body, 'early');
    assert.equal(accepted, 2);
    await pool.close();
    early.close();
  });

  test('a refused connection is an error with the reason', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const pool = new H1Pool(`http://127.0.0.1:${port}`, {
      connections: 0,
      idleMs: 1000,
      connectTimeoutMs: 1000,
    });
    assert.match(String((await send(pool)).error), /ECONNREFUSED/);
    await pool.close();
  });
});

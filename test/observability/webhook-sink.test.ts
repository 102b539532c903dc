// The request-log webhook's delivery (G-OBS-42) against a real HTTPS server: one JSON POST per
// record, at most 64 in flight (the rest dropped and counted, never queued), a 2 s bound on each,
// redirects never followed. The URL guard itself is a config check (test/config/validation.test.ts);
// here the sink runs in-process over the gateway's own pools, trusting the test CA.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { WebhookSink } from '../../src/observability/request-log.ts';
import { SinkClient } from '../../src/observability/sink-client.ts';
import { OriginPools } from '../../src/upstream/origins.ts';
import { makePki } from '../support/test-pki.ts';

const pki = makePki();
let handle: (req: IncomingMessage, body: string, res: ServerResponse) => void = () => {};
const server = createServer(
  { cert: readFileSync(pki.file('server.pem')), key: readFileSync(pki.file('server.key')) },
  (req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => {
      body += d;
    });
    req.on('end', () => handle(req, body, res));
  },
);
let url: string;
let origins: OriginPools;

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  // The gateway's pools, told to trust the test CA (in production: the system roots).
  origins = new OriginPools(undefined, pki.client.ca);
});
after(async () => {
  await origins.close();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('the request-log webhook sink', () => {
  it('POSTs each record as JSON', async () => {
    const got: { path: string; type: string; body: string }[] = [];
    handle = (req, body, res) => {
      got.push({ path: req.url ?? '', type: req.headers['content-type'] ?? '', body });
      res.end();
    };
    let drops = 0;
    const sink = new WebhookSink(url, new SinkClient(origins), () => drops++);
    sink.write('{"request_id":"a"}');
    sink.write('{"request_id":"b"}');
    await sink.close();
    assert.deepEqual(got.map((g) => g.body).sort(), ['{"request_id":"a"}', '{"request_id":"b"}']);
    assert.ok(got.every((g) => g.path === '/hook' && g.type === 'application/json'));
    assert.equal(drops, 0);
  });

  it('holds at most 64 deliveries: the rest are dropped at once, and a hung one ends in 2 s', async () => {
    const held: ServerResponse[] = [];
    handle = (_req, _body, res) => held.push(res);
    let drops = 0;
    const sink = new WebhookSink(url, new SinkClient(origins), () => drops++);
    const started = Date.now();
    for (let i = 0; i < 70; i++) sink.write(`{"n":${i}}`);
    assert.equal(drops, 6, 'the six beyond 64 are dropped, not queued');
    await sink.close();
    const took = Date.now() - started;
    assert.ok(took >= 1900 && took < 5000, `the held deliveries were cut at their 2 s bound (${took} ms)`);
    assert.equal(drops, 70, 'every timed-out delivery is counted');
    for (const res of held) res.destroy();
  });

  it('a redirect is a failed delivery, never followed', async () => {
    const paths: string[] = [];
    handle = (req, _body, res) => {
      paths.push(req.url ?? '');
      res.writeHead(307, { location: '/elsewhere' }).end();
    };
    let drops = 0;
    const sink = new WebhookSink(url, new SinkClient(origins), () => drops++);
    sink.write('{}');
    await sink.close();
    assert.deepEqual(paths, ['/hook']);
    assert.equal(drops, 1);
  });
});

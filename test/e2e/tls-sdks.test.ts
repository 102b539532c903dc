// HTTP/2 and HTTP/1.1 over TLS on one port (issue 19, G-TLS-2): ALPN offers h2 and http/1.1, with
// and without mTLS. The six official SDKs, each with its default transport (fetch for five, the
// AWS SDK's HTTP/2 handler for Bedrock), call the gateway streaming and not; a client offering only
// one protocol succeeds; a client without a certificate is refused at the handshake under mTLS; a
// connection that never completes its handshake is closed by the header timeout (G-TLS-5).

import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { request as httpsRequest } from 'node:https';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Agent, getGlobalDispatcher, setGlobalDispatcher } from 'undici';
import type { Protocol } from '../../src/protocols/names.ts';
import { type Gateway, startGateway } from '../support/gateway-process.ts';
import { type MockUpstream, startMockUpstream } from '../support/mock-upstream.ts';
import { rawRequest } from '../support/raw-requests.ts';
import { SDK_CALLS } from '../support/sdk-calls.ts';
import {
  CLIENT_TOKEN,
  LANE_LIST,
  sixProvidersCatalog,
  sixProvidersConfig,
  sixProvidersEnv,
} from '../support/six-providers.ts';
import { makePki, type TestPki } from '../support/test-pki.ts';

let pki: TestPki;
let mock: MockUpstream;
const previous = getGlobalDispatcher();

before(async () => {
  pki = makePki();
  mock = await startMockUpstream();
  // The fetch-based SDKs use the process's global dispatcher: trust the test CA, offer the client certificate.
  setGlobalDispatcher(new Agent({ connect: { ...pki.client } }));
});

after(async () => {
  setGlobalDispatcher(previous);
  await mock?.close();
});

function tlsConfig(mtls: boolean): string {
  const tls = [
    'tls:',
    `  cert_file: ${pki.file('server.pem')}`,
    `  key_file: ${pki.file('server.key')}`,
    ...(mtls ? [`  client_ca_file: ${pki.file('ca.pem')}`] : []),
    'limits:',
    '  header_timeout_secs: 1',
  ];
  return sixProvidersConfig(tls.join('\n'));
}

/** GET over HTTP/1.1 only (ALPN http/1.1). */
function getHttp1(url: string, withCert: boolean): Promise<{ status: number; body: string; alpn: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      `${url}/healthz`,
      {
        ca: pki.client.ca,
        ...(withCert ? { cert: pki.client.cert, key: pki.client.key } : {}),
        ...{ ALPNProtocols: ['http/1.1'] },
        agent: false,
      },
      (res) => {
        let body = '';
        res.on('data', (c) => {
          body += c;
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body,
            alpn: String((res.socket as { alpnProtocol?: string }).alpnProtocol),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** GET /stats over HTTP/2 only (ALPN h2). */
function getHttp2(url: string, withCert: boolean): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(url, {
      ca: pki.client.ca,
      ...(withCert ? { cert: pki.client.cert, key: pki.client.key } : {}),
    });
    session.on('error', reject);
    const stream = session.request({ ':path': '/stats', authorization: `Bearer ${CLIENT_TOKEN}` });
    let status = 0;
    let body = '';
    stream.on('response', (headers) => {
      status = Number(headers[':status']);
    });
    stream.on('data', (c) => {
      body += c;
    });
    stream.on('end', () => {
      session.close();
      resolve({ status, body });
    });
    stream.on('error', reject);
  });
}

/** Seconds until the gateway closes a connection that sends `bytes` and then nothing. */
function closedAfter(url: string, bytes: Buffer): Promise<number> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const socket = net.connect(Number(port), hostname, () => socket.write(bytes));
    socket.on('error', () => {});
    socket.on('close', () => resolve((Date.now() - t0) / 1000));
    setTimeout(() => {
      socket.destroy();
      reject(new Error('still open after 8 s'));
    }, 8000).unref();
  });
}

async function sixSdks(gw: Gateway): Promise<void> {
  for (const lane of LANE_LIST) {
    for (const stream of [false, true]) {
      const r = await SDK_CALLS[lane.protocol as Protocol]({
        baseUrl: gw.url,
        token: CLIENT_TOKEN,
        name: lane.pool,
        stream,
        bedrockTransport: 'default',
        tls: pki.client,
      });
      assert.equal(r.text, `Hello from ${lane.protocol} mock`, `${lane.protocol} stream=${stream}`);
      if (stream) assert.ok(r.deltas >= 1, `${lane.protocol} streamed`);
    }
  }
}

for (const mtls of [false, true]) {
  describe(mtls ? 'mTLS' : 'TLS', () => {
    let gw: Gateway;
    before(async () => {
      gw = await startGateway({
        configYaml: tlsConfig(mtls),
        providersYaml: sixProvidersCatalog(mock.url),
        env: sixProvidersEnv(),
      });
    });
    after(async () => gw?.stop());

    it('the six official SDKs with their default transports, streaming and not (Bedrock over HTTP/2)', async () => {
      await sixSdks(gw);
    });

    it('a client offering only http/1.1 and one offering only h2 are both served', async () => {
      const one = await getHttp1(gw.url, true);
      assert.deepEqual([one.status, one.body, one.alpn], [200, 'ok', 'http/1.1']);
      const two = await getHttp2(gw.url, true);
      assert.equal(two.status, 200);
      assert.ok(Array.isArray((JSON.parse(two.body) as { lanes: unknown[] }).lanes));
    });

    it('every protocol, streaming and not, over HTTP/2 on the TLS port', async () => {
      const session = http2.connect(gw.url, { ...pki.client });
      try {
        for (const lane of LANE_LIST) {
          for (const stream of [false, true]) {
            const { path, body } = rawRequest(lane.protocol, lane.pool, stream);
            const answer = await new Promise<{ status: number; text: string }>((resolve, reject) => {
              const req = session.request({
                ':method': 'POST',
                ':path': path,
                authorization: `Bearer ${CLIENT_TOKEN}`,
                'content-type': 'application/json',
              });
              let status = 0;
              const chunks: Buffer[] = [];
              req.on('response', (h) => {
                status = Number(h[':status']);
              });
              req.on('data', (c: Buffer) => chunks.push(c));
              req.on('end', () => resolve({ status, text: Buffer.concat(chunks).toString('latin1') }));
              req.on('error', reject);
              req.end(body);
            });
            assert.equal(
              answer.status,
              200,
              `${lane.protocol} stream=${stream}: ${answer.text.slice(0, 200)}`,
            );
            assert.ok(answer.text.includes('mock'), `${lane.protocol} stream=${stream} carries the answer`);
          }
        }
      } finally {
        session.close();
      }
    });

    it('G-TLS-5 a connection that never completes its handshake is closed at the header timeout', async () => {
      // 1,000 connections: half send nothing, half three bytes of a TLS record header.
      const held = Array.from({ length: 1000 }, (_, i) =>
        closedAfter(gw.url, i % 2 === 0 ? Buffer.alloc(0) : Buffer.from([0x16, 0x03, 0x01])),
      );
      const seconds = await Promise.all(held);
      assert.ok(Math.max(...seconds) < 4, `the last closed after ${Math.max(...seconds)} s`);
      assert.equal((await getHttp1(gw.url, true)).status, 200, 'still serving');
    });

    if (mtls) {
      it('G-TST-18 a client without a certificate is refused at the handshake, over either protocol', async () => {
        await assert.rejects(getHttp1(gw.url, false));
        await assert.rejects(getHttp2(gw.url, false));
        assert.equal((await getHttp1(gw.url, true)).status, 200);
      });
    }
  });
}

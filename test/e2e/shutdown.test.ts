// Graceful shutdown is not held by connections that never asked for anything: a client that
// connected and stayed silent (or stalled in its TLS handshake) is closed at once on SIGTERM,
// instead of after `limits.header_timeout_secs`.

import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type Gateway, startGateway } from '../support/gateway-process.ts';
import { type MockUpstream, startMockUpstream } from '../support/mock-upstream.ts';
import { makePki } from '../support/test-pki.ts';

let mock: MockUpstream;
before(async () => {
  mock = await startMockUpstream();
});
after(async () => {
  await mock?.close();
});

function gateway(extra: string[]): Promise<Gateway> {
  return startGateway({
    providersYaml: `up:\n  protocol: openai\n  base_url: ${mock.url}\n`,
    configYaml: [
      'listen: 127.0.0.1:0',
      'auth:\n  mode: token\n  client_tokens: [t]',
      'providers:\n  up: {api_key_env: K}',
      'models:\n  m: {provider: up, max_concurrent: 2}',
      'limits:\n  header_timeout_secs: 30',
      ...extra,
    ].join('\n'),
    env: { K: 'k' },
  });
}

/** Opens a connection that sends `bytes` and then nothing; resolves once it is connected. */
function silent(gw: Gateway, bytes: Buffer): Promise<net.Socket> {
  const { port } = new URL(gw.url);
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), '127.0.0.1', () => {
      if (bytes.length > 0) socket.write(bytes);
      resolve(socket);
    });
    socket.on('error', () => {});
  });
}

describe('shutdown with silent connections', () => {
  for (const tls of [false, true]) {
    it(`${tls ? 'TLS' : 'plain'}: SIGTERM exits at once although a connection never finished its first bytes`, async () => {
      const pki = tls ? makePki() : undefined;
      const gw = await gateway(
        pki === undefined
          ? []
          : ['tls:', `  cert_file: ${pki.file('server.pem')}`, `  key_file: ${pki.file('server.key')}`],
      );
      const sockets = [
        await silent(gw, Buffer.alloc(0)),
        await silent(gw, Buffer.from(tls ? [0x16, 0x03, 0x01] : 'PRI')),
      ];
      await new Promise((r) => setTimeout(r, 100));
      const t0 = Date.now();
      const code = await gw.stop();
      const elapsed = Date.now() - t0;
      for (const s of sockets) s.destroy();
      assert.equal(code, 0);
      assert.ok(elapsed < 3000, `exited after ${elapsed} ms`);
    });
  }
});

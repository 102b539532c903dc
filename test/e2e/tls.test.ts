// Native TLS and mTLS (§8): HTTPS on the listen socket, and with client_ca_file a client
// certificate is required at the handshake (G-TST-18) while other clients keep being served.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { type Gateway, startGateway } from '../support/gateway-process.ts';
import { makePki, type TestPki } from '../support/test-pki.ts';

let pki: TestPki;
const file = (name: string): string => pki.file(name);

function get(url: string, options: { cert?: boolean }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/healthz`,
      {
        ca: readFileSync(file('ca.pem')),
        ...(options.cert
          ? { cert: readFileSync(file('client.pem')), key: readFileSync(file('client.key')) }
          : {}),
        agent: false,
      },
      (res) => {
        let body = '';
        res.on('data', (c) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function config(mtls: boolean): string {
  return [
    'listen: 127.0.0.1:0',
    'tls:',
    `  cert_file: ${file('server.pem')}`,
    `  key_file: ${file('server.key')}`,
    ...(mtls ? [`  client_ca_file: ${file('ca.pem')}`] : []),
    'auth:\n  mode: token\n  client_tokens: [tls-token]',
    'providers:\n  openai:\n    api_key_env: TLS_TEST_KEY',
    'models:\n  gpt-4o-mini:\n    provider: openai\n    max_concurrent: 1',
  ].join('\n');
}

describe('TLS', () => {
  before(() => {
    pki = makePki();
  });

  describe('server TLS', () => {
    let gw: Gateway;
    before(async () => {
      gw = await startGateway({ configYaml: config(false), env: { TLS_TEST_KEY: 'sk-x' } });
    });
    after(async () => gw?.stop());

    it('serves HTTPS on the listen socket', async () => {
      assert.match(gw.url, /^https:\/\//);
      assert.deepEqual(await get(gw.url, {}), { status: 200, body: 'ok' });
    });
  });

  describe('mTLS', () => {
    let gw: Gateway;
    before(async () => {
      gw = await startGateway({ configYaml: config(true), env: { TLS_TEST_KEY: 'sk-x' } });
    });
    after(async () => gw?.stop());

    it('G-TST-18 a client without a certificate fails the handshake; one with a CA-signed certificate is served', async () => {
      assert.match(gw.stderr(), /busbar listening on https:\/\/\S+ \(mtls\)/);
      await assert.rejects(get(gw.url, {}));
      assert.deepEqual(await get(gw.url, { cert: true }), { status: 200, body: 'ok' });
      await assert.rejects(get(gw.url, {}));
      assert.deepEqual(await get(gw.url, { cert: true }), { status: 200, body: 'ok' });
    });
  });

  it('G-TLS-4 a key that does not match the certificate is one clean fatal line', async () => {
    await assert.rejects(
      startGateway({
        configYaml: config(false).replace(file('server.key'), file('client.key')),
        env: { TLS_TEST_KEY: 'sk-x' },
      }),
      (err: Error) => {
        assert.match(err.message, /\[error\] TLS configuration error: TLS cert\/key are not a valid pair/);
        assert.doesNotMatch(err.message, /\n\s+at /);
        return true;
      },
    );
  });
});

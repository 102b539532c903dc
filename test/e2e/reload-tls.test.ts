// A reload re-reads TLS files replaced at the same paths (issue 16): new connections get the new
// certificate, a pair that does not match is refused and the running one stays.

import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Gateway, startGateway } from '../support/gateway-process.ts';
import { makePki, type TestPki } from '../support/test-pki.ts';

let first: TestPki;
let second: TestPki;
let gw: Gateway;
const dir = mkdtempSync(join(tmpdir(), 'busbar-tls-reload-'));
const cert = join(dir, 'server.pem');
const key = join(dir, 'server.key');

/** /healthz over HTTPS trusting `pki`'s CA only. */
function healthz(pki: TestPki): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${gw.url}/healthz`,
      { ca: readFileSync(pki.file('ca.pem')), agent: false },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function until(check: () => boolean, ms: number): Promise<void> {
  const start = Date.now();
  while (!check() && Date.now() - start < ms) await new Promise((r) => setTimeout(r, 25));
}

before(async () => {
  first = makePki();
  second = makePki();
  copyFileSync(first.file('server.pem'), cert);
  copyFileSync(first.file('server.key'), key);
  gw = await startGateway({
    configYaml: [
      'listen: 127.0.0.1:0',
      'tls:',
      `  cert_file: ${cert}`,
      `  key_file: ${key}`,
      'auth:\n  mode: token\n  client_tokens: [tls-token]',
      'providers:\n  openai:\n    api_key_env: TLS_TEST_KEY',
      'models:\n  gpt-4o-mini:\n    provider: openai\n    max_concurrent: 1',
    ].join('\n'),
    env: { TLS_TEST_KEY: 'sk-x' },
  });
});
after(async () => gw?.stop());

test('replaced certificate files are used by new connections after SIGHUP', async () => {
  assert.equal(await healthz(first), 200);
  await assert.rejects(healthz(second));
  copyFileSync(second.file('server.pem'), cert);
  copyFileSync(second.file('server.key'), key);
  gw.child.kill('SIGHUP');
  await until(() => gw.stderr().includes('TLS certificate files re-read'), 5000);
  assert.equal(await healthz(second), 200);
  await assert.rejects(healthz(first));
});

test('a key that does not match is refused; the running certificate stays', async () => {
  copyFileSync(first.file('server.key'), key);
  gw.child.kill('SIGHUP');
  await until(() => /config reload refused.*not a valid pair/.test(gw.stderr()), 5000);
  assert.match(gw.stderr(), /config reload refused.*TLS cert\/key are not a valid pair/);
  assert.equal(await healthz(second), 200);
});

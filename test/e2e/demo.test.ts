// The embedded default (G-CFG-2a): with no config file and no provider keys the gateway boots on 127.0.0.1:8080
// with a `demo` model answered in-process; every official SDK, streaming and not, gets a deterministic echo.
// Skipped when port 8080 is taken (another run, or a developer's own gateway).

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PROTOCOLS } from '../../src/protocols/names.ts';
import { type Gateway, startGateway } from '../support/gateway-process.ts';
import { SDK_CALLS } from '../support/sdk-calls.ts';

const DEMO_URL = 'http://127.0.0.1:8080';

async function port8080Busy(): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(true));
    probe.listen(8080, '127.0.0.1', () => probe.close(() => resolve(false)));
  });
}

const busy = await port8080Busy();
const skip = busy ? 'port 127.0.0.1:8080 is busy; the embedded default cannot listen' : false;

describe('embedded default config with the demo model', { skip }, () => {
  let gw: Gateway;
  let cwd: string;

  before(async () => {
    cwd = mkdtempSync(path.join(tmpdir(), 'busbar-demo-'));
    // No configYaml / providersYaml: BUSBAR_CONFIG and BUSBAR_PROVIDERS are unset, and the cwd has no config.yaml.
    gw = await startGateway({ cwd });
  });

  after(async () => {
    await gw?.stop();
    rmSync(cwd, { recursive: true, force: true });
  });

  it('listens on the embedded default address with auth none', () => {
    assert.equal(gw.url, DEMO_URL);
    assert.match(gw.stderr(), /OPEN RELAY|auth/i, 'the open-relay banner is printed');
    assert.match(gw.stderr(), /demo/);
  });

  for (const protocol of PROTOCOLS) {
    it(`${protocol}: non-stream and stream echo the user's message`, async () => {
      const prompt = `ping from the ${protocol} SDK 12345`;
      const call = SDK_CALLS[protocol];
      const opts = { baseUrl: gw.url, token: 'any-token', name: 'demo', prompt };
      const first = await call({ ...opts, stream: false });
      assert.ok(first.text.length > 0, 'non-empty answer');
      assert.ok(first.text.includes(prompt), `answer echoes the message: ${JSON.stringify(first.text)}`);
      const again = await call({ ...opts, stream: false });
      assert.equal(again.text, first.text, 'deterministic');
      const streamed = await call({ ...opts, stream: true });
      assert.ok(
        streamed.text.includes(prompt),
        `streamed answer echoes the message: ${JSON.stringify(streamed.text)}`,
      );
      assert.ok(streamed.deltas >= 1);
    });
  }
});

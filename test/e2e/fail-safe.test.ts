// Fail safe (issue 9): an exception nothing caught, outside any request, ends the process cleanly —
// the listener closes, a request already streaming finishes whole, and the process exits 1. Under
// `workers`, the primary starts a replacement and the port keeps serving.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { type Gateway, REPO_ROOT, startGateway } from '../support/gateway-process.ts';
import { type MockUpstream, startMockUpstream } from '../support/mock-upstream.ts';
import { rawRequest } from '../support/raw-requests.ts';

const PRELOAD = ['--import', path.join(REPO_ROOT, 'test/support/crash-on-signal.ts')];
const TOKEN = 'fs-token';
const AUTH = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

function config(workers: number): string {
  return [
    'listen: 127.0.0.1:0',
    `workers: ${workers}`,
    `auth:\n  mode: token\n  client_tokens: [${TOKEN}]`,
    'providers:\n  mock-openai:\n    api_key_env: FAIL_SAFE_KEY',
    'models:\n  gpt-4o-mini:\n    provider: mock-openai\n    max_concurrent: 8',
  ].join('\n');
}

const until = async (what: string, check: () => boolean | Promise<boolean>, ms = 8000): Promise<void> => {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

/** Child processes of `pid`, read from /proc (no external command). */
function children(pid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Fields after the command's closing parenthesis: state, then the parent pid.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) found.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

describe('an uncaught exception outside a request', () => {
  let mock: MockUpstream;
  before(async () => {
    mock = await startMockUpstream();
  });
  after(async () => {
    await mock?.close();
  });

  it('closes the listener, lets the streaming request finish, and exits 1', async () => {
    const gw = await startGateway({
      providersYaml: `mock-openai:\n  protocol: openai\n  base_url: ${mock.url}\n`,
      configYaml: config(1),
      env: { FAIL_SAFE_KEY: 'sk-fs' },
      nodeArgs: PRELOAD,
    });
    try {
      mock.reset();
      mock.enqueue({ chunkDelayMs: 150 });
      const dispatcher = new Agent();
      const { body } = rawRequest('openai', 'gpt-4o-mini', true);
      const res = await request(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: AUTH,
        body,
        dispatcher,
      });
      assert.equal(res.statusCode, 200);
      const exited = new Promise<number | null>((resolve) => gw.child.once('exit', (code) => resolve(code)));
      gw.child.kill('SIGUSR2');
      await until('the crash line', () => gw.stderr().includes('uncaught exception: injected defect'));
      // A new connection is refused while the stream goes on.
      await assert.rejects(
        request(`${gw.url}/healthz`, { dispatcher: new Agent() }).then((r) => r.body.text()),
        /ECONNREFUSED/,
      );
      const text = await res.body.text();
      assert.match(text, /data: \[DONE\]/, 'the stream in flight finished whole');
      assert.equal(await exited, 1);
      await dispatcher.close();
    } finally {
      await gw.stop();
    }
  });

  it('under workers, the primary replaces the worker and the port keeps serving', async () => {
    const gw: Gateway = await startGateway({
      providersYaml: `mock-openai:\n  protocol: openai\n  base_url: ${mock.url}\n`,
      configYaml: config(2),
      env: { FAIL_SAFE_KEY: 'sk-fs' },
      nodeArgs: PRELOAD,
    });
    try {
      await until('two workers', () => children(gw.child.pid!).length === 2);
      const [victim] = children(gw.child.pid!);
      process.kill(victim!, 'SIGUSR2');
      await until('the replacement', () =>
        gw.stderr().includes(`worker ${victim} exited (1); starting a replacement`),
      );
      await until('two workers again', () => {
        const now = children(gw.child.pid!);
        return now.length === 2 && !now.includes(victim!);
      });
      const { body } = rawRequest('openai', 'gpt-4o-mini', false);
      for (let i = 0; i < 6; i++) {
        const dispatcher = new Agent({ pipelining: 0 });
        const res = await request(`${gw.url}/v1/chat/completions`, {
          method: 'POST',
          headers: AUTH,
          body,
          dispatcher,
        });
        assert.equal(res.statusCode, 200);
        await res.body.text();
        await dispatcher.close();
      }
    } finally {
      await gw.stop();
    }
  });
});

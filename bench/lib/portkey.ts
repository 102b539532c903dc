// The open-source Portkey gateway as a peer in the bench (issue 18): installed on first use into a
// git-ignored folder (bench/.peers, never a dependency of the product), pinned, and run against the
// same mock as Busbar. Its OpenAI route reaches the mock through `x-portkey-custom-host`.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { BENCH_DIR, type Running, spawnServer } from './processes.ts';

export const PORTKEY_VERSION = '1.15.2';
const PEERS_DIR = path.join(BENCH_DIR, '.peers');
const ENTRY = path.join(PEERS_DIR, 'node_modules', '@portkey-ai', 'gateway', 'build', 'start-server.js');

/** The installed entry point, installing the pinned version first when it is missing. */
export function ensurePortkey(log: (m: string) => void): string {
  if (existsSync(ENTRY)) return ENTRY;
  mkdirSync(PEERS_DIR, { recursive: true });
  log(`installing @portkey-ai/gateway@${PORTKEY_VERSION} into ${path.relative(process.cwd(), PEERS_DIR)}`);
  execFileSync(
    'npm',
    [
      'install',
      '--prefix',
      PEERS_DIR,
      '--no-audit',
      '--no-fund',
      '--ignore-scripts',
      '--no-save',
      `@portkey-ai/gateway@${PORTKEY_VERSION}`,
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  return ENTRY;
}

/**
 * Starts Portkey on a free port: a small launcher picks the port, starts the server headless, waits
 * until it answers and announces the port the way the bench's other servers do.
 */
export function startPortkey(entry: string): Promise<Running> {
  const launcher = `
    const net = require('node:net');
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const port = srv.address().port;
      srv.close(async () => {
        process.argv = [process.argv[0], 'portkey', '--port=' + port, '--headless'];
        await import(${JSON.stringify(entry)});
        for (;;) {
          try { await fetch('http://127.0.0.1:' + port + '/'); break; } catch { await new Promise((r) => setTimeout(r, 50)); }
        }
        process.stdout.write('\\n' + JSON.stringify({ port }) + '\\n');
      });
    });`;
  return spawnServer({
    name: 'portkey',
    args: ['-e', launcher],
    env: { NODE_ENV: 'production', TRUSTED_CUSTOM_HOSTS: '127.0.0.1,localhost' },
    announce: 'stdout-json',
    timeoutMs: 30_000,
  });
}

/** The bench's OpenAI request as Portkey takes it: the provider and the mock named in headers. */
export function portkeyRequest(raw: string, mockPort: number): string {
  return raw.replace(
    'Content-Type:',
    `x-portkey-provider: openai\r\nx-portkey-custom-host: http://127.0.0.1:${mockPort}/v1\r\nContent-Type:`,
  );
}

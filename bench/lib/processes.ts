// Child processes of the bench: the mock upstream, the minimal proxy and the gateway, each in its own
// process so /proc CPU and RSS figures belong to one subject only. All listen on 127.0.0.1.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const REPO_ROOT = path.resolve(BENCH_DIR, '..');
/**
 * The gateway entry point: the installed one (`bin/busbar.js`, what `npm start` and `npx busbar`
 * run). `--gateway PATH` points the bench at another build or checkout.
 */
let gatewayMain = path.join(REPO_ROOT, 'bin', 'busbar.js');
export const gatewayEntry = (): string => gatewayMain;
export function setGatewayEntry(file: string): void {
  gatewayMain = path.resolve(file);
}

/** The gateway prints this on stderr once bound (plain or JSON logs). */
const LISTENING = /busbar listening on https?:\/\/[^\s"'}\],]*:(\d+)/;
/** The bench's own servers print `{"port":N}` on stdout. */
const PORT_LINE = /\{"port":(\d+)\}/;

/** Variables that would change what the gateway reads; the bench passes its own. */
const SCRUBBED = [
  'BUSBAR_CONFIG',
  'BUSBAR_PROVIDERS',
  'BUSBAR_LOG',
  'RUST_LOG',
  'OPENAI_API_KEY',
  'ANTHROPIC_API_KEY',
  'GEMINI_API_KEY',
  'GOOGLE_API_KEY',
  'COHERE_API_KEY',
  'CO_API_KEY',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_BEARER_TOKEN_BEDROCK',
  'NODE_OPTIONS',
];

/** Every server child still running; killed if the bench itself exits early (Ctrl-C, crash). */
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

export interface Running {
  readonly name: string;
  readonly pid: number;
  readonly port: number;
  readonly child: ChildProcess;
  /** hrtime (ns) just before spawn and when the port was announced. */
  readonly spawnedAt: bigint;
  readonly announcedAt: bigint;
  /** The last 64 KiB the process wrote to stderr. */
  stderr(): string;
  stop(): Promise<void>;
}

export interface SpawnSpec {
  readonly name: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** Where the listening port is announced. */
  readonly announce: 'stdout-json' | 'gateway-stderr';
  readonly cwd?: string;
  readonly timeoutMs?: number;
  readonly cleanup?: () => void;
}

export function spawnServer(spec: SpawnSpec): Promise<Running> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...spec.env };
  for (const name of SCRUBBED) if (spec.env?.[name] === undefined) delete env[name];
  const spawnedAt = process.hrtime.bigint();
  const child = spawn(process.execPath, spec.args, {
    cwd: spec.cwd ?? REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  children.add(child);
  let stopping = false;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', (code, signal) => {
    if (!stopping)
      process.stderr.write(
        `[bench] ${spec.name} (pid ${child.pid}) exited unexpectedly: code ${code} signal ${signal}\n${stderr.slice(-2000)}\n`,
      );
  });
  void exited.then(() => {
    children.delete(child);
    spec.cleanup?.();
  });

  const stop = async (): Promise<void> => {
    stopping = true;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
  };

  return new Promise<Running>((resolve, reject) => {
    let settled = false;
    const done = (port: number): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({
        name: spec.name,
        pid: child.pid!,
        port,
        child,
        spawnedAt,
        announcedAt: process.hrtime.bigint(),
        stderr: () => stderr,
        stop,
      });
    };
    const fail = (why: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void stop();
      reject(
        new Error(`${spec.name} did not start: ${why}\n--- stderr ---\n${stderr}\n--- stdout ---\n${stdout}`),
      );
    };
    const timer = setTimeout(() => fail('timed out'), spec.timeoutMs ?? 15_000);
    child.stdout!.on('data', (d: string) => {
      if (stdout.length < 65_536) stdout += d;
      if (spec.announce === 'stdout-json') {
        const m = PORT_LINE.exec(stdout);
        if (m) done(Number(m[1]));
      }
    });
    child.stderr!.on('data', (d: string) => {
      stderr = (stderr + d).slice(-65_536);
      if (spec.announce === 'gateway-stderr') {
        const m = LISTENING.exec(stderr);
        if (m) done(Number(m[1]));
      }
    });
    child.once('error', (err) => fail(err.message));
    void exited.then(() => fail(`exited with code ${child.exitCode} signal ${child.signalCode}`));
  });
}

export function startMock(extraArgs: readonly string[] = []): Promise<Running> {
  return spawnServer({
    name: 'mock-upstream',
    args: [path.join(BENCH_DIR, 'mock-upstream.ts'), ...extraArgs],
    announce: 'stdout-json',
  });
}

export function startMinimalProxy(upstreamPort: number): Promise<Running> {
  return spawnServer({
    name: 'minimal-proxy',
    args: [path.join(BENCH_DIR, 'minimal-proxy.ts')],
    env: { UPSTREAM: `http://127.0.0.1:${upstreamPort}`, PORT: '0' },
    announce: 'stdout-json',
  });
}

/**
 * The floor of any Node server on this machine: a bare `node:http` server in plain JavaScript
 * (no TypeScript, no packages), answering 200 to everything. Cold start and idle RSS only.
 */
const NODE_FLOOR_SERVER =
  "require('node:http').createServer((q, r) => r.end('ok')).listen(0, '127.0.0.1', function () {" +
  " process.stdout.write(JSON.stringify({ port: this.address().port }) + '\\n'); });" +
  " process.on('SIGTERM', () => process.exit(0));";

export function startNodeFloor(): Promise<Running> {
  return spawnServer({ name: 'node-floor', args: ['-e', NODE_FLOOR_SERVER], announce: 'stdout-json' });
}

export interface GatewayFiles {
  readonly configYaml: string;
  readonly providersYaml: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Node flags placed before the entry point, e.g. `--cpu-prof`. */
  readonly nodeFlags?: readonly string[];
  /** Another gateway entry point than the bench's (bench/compare.ts runs two side by side). */
  readonly entry?: string;
}

export function startGateway(name: string, files: GatewayFiles): Promise<Running> {
  const dir = mkdtempSync(path.join(tmpdir(), 'busbar-bench-'));
  const configFile = path.join(dir, 'config.yaml');
  const providersFile = path.join(dir, 'providers.yaml');
  writeFileSync(configFile, files.configYaml.replaceAll('@DIR@', dir));
  writeFileSync(providersFile, files.providersYaml);
  return spawnServer({
    name,
    args: [...(files.nodeFlags ?? []), files.entry ?? gatewayMain],
    env: { ...files.env, BUSBAR_CONFIG: configFile, BUSBAR_PROVIDERS: providersFile },
    announce: 'gateway-stderr',
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  });
}

export interface SimpleResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** One request on a fresh connection (setup and sanity checks, never measurements of load). */
export function request(
  port: number,
  method: string,
  urlPath: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<SimpleResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method, path: urlPath, headers, agent: false },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          text += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

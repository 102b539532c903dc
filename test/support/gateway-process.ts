// Runs the real gateway (`src/main.ts`) as a child process for end-to-end tests, and its CLI via spawnSync.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const MAIN_TS = path.join(REPO_ROOT, 'src', 'main.ts');

/** Matches the listening line in plain or structured (JSON) logs; the URL stops before quotes and braces. */
const LISTENING = /busbar listening on (https?:\/\/[^\s"'}\],]+)/;

/**
 * Variables scrubbed from the inherited environment so a developer's shell never changes a test:
 * config paths, log level, and the conventional provider keys the embedded default mode reads.
 */
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
  'OTEL_SEMCONV_STABILITY_OPT_IN',
  'OTEL_SERVICE_NAME',
  // Set by `node --test` for its own children; the gateway is not a test file.
  'NODE_TEST_CONTEXT',
];

export interface GatewayFiles {
  /** Deployment file text; written to a temp dir and passed as BUSBAR_CONFIG. Omit for no config at all. */
  configYaml?: string;
  /** Catalog text; written and passed as BUSBAR_PROVIDERS. Omit to let the gateway find its own. */
  providersYaml?: string;
  /** Extra environment; `undefined` removes a variable. */
  env?: Record<string, string | undefined>;
  /** Working directory; default the repository root. */
  cwd?: string;
}

export interface StartGatewayOptions extends GatewayFiles {
  /** Give up waiting for the listening line after this long (default 10 s). */
  startTimeoutMs?: number;
  /** Node options before the entry point, e.g. `--import` of a test preload. */
  nodeArgs?: string[];
}

export interface Gateway {
  /** e.g. `http://127.0.0.1:41234` (no trailing slash). */
  readonly url: string;
  readonly port: number;
  readonly child: ChildProcess;
  /** Everything the gateway wrote to stderr so far. */
  stderr(): string;
  stdout(): string;
  /** SIGTERM, wait for exit (SIGKILL after 5 s); resolves with the exit code (null when killed). */
  stop(): Promise<number | null>;
  /** Where the YAML files were written (to edit them for a reload). */
  readonly configFile: string | undefined;
  readonly providersFile: string | undefined;
}

export interface PreparedRun {
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Removes the temp dir holding the YAML files. */
  cleanup(): void;
}

/** Writes the YAML files to a fresh temp dir and builds the child's environment. */
export function prepareRun(files: GatewayFiles): PreparedRun {
  const dir = mkdtempSync(path.join(tmpdir(), 'busbar-e2e-'));
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of SCRUBBED) delete env[name];
  if (files.configYaml !== undefined) {
    const file = path.join(dir, 'config.yaml');
    writeFileSync(file, files.configYaml);
    env.BUSBAR_CONFIG = file;
  }
  if (files.providersYaml !== undefined) {
    const file = path.join(dir, 'providers.yaml');
    writeFileSync(file, files.providersYaml);
    env.BUSBAR_PROVIDERS = file;
  }
  for (const [name, value] of Object.entries(files.env ?? {})) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return {
    env,
    cwd: files.cwd ?? REPO_ROOT,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export function startGateway(options: StartGatewayOptions): Promise<Gateway> {
  const run = prepareRun(options);
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), MAIN_TS], {
    cwd: run.cwd,
    env: run.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (d: string) => {
    stdout += d;
  });
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      run.cleanup();
      resolve(code);
    });
  });

  const stop = async (): Promise<number | null> => {
    if (child.exitCode !== null || child.signalCode !== null) return exited;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    try {
      return await exited;
    } finally {
      clearTimeout(timer);
    }
  };

  return new Promise<Gateway>((resolve, reject) => {
    let settled = false;
    const fail = (why: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void stop();
      reject(
        new Error(`gateway did not start: ${why}\n--- stderr ---\n${stderr}\n--- stdout ---\n${stdout}`),
      );
    };
    const timer = setTimeout(
      () => fail(`no listening line within ${options.startTimeoutMs ?? 10_000} ms`),
      options.startTimeoutMs ?? 10_000,
    );
    child.stderr.on('data', (d: string) => {
      stderr += d;
      if (settled) return;
      const m = LISTENING.exec(stderr);
      if (!m) return;
      settled = true;
      clearTimeout(timer);
      const url = m[1]!.replace(/\/$/, '');
      resolve({
        url,
        port: Number(new URL(url).port),
        child,
        stderr: () => stderr,
        stdout: () => stdout,
        stop,
        configFile: options.configYaml === undefined ? undefined : run.env.BUSBAR_CONFIG,
        providersFile: options.providersYaml === undefined ? undefined : run.env.BUSBAR_PROVIDERS,
      });
    });
    child.once('error', (err) => fail(`spawn failed: ${err.message}`));
    void exited.then((code) => fail(`process exited with code ${code}`));
  });
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node src/main.ts <args>` to completion (20 s cap). */
export function runCli(args: string[], files: GatewayFiles = {}): CliResult {
  const run = prepareRun(files);
  try {
    const r = spawnSync(process.execPath, [MAIN_TS, ...args], {
      cwd: run.cwd,
      env: run.env,
      encoding: 'utf8',
      timeout: 20_000,
    });
    return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  } finally {
    run.cleanup();
  }
}

/**
 * A test's own OpenAI-shaped upstream `server`, bound on loopback, behind a gateway with token
 * auth: one provider `up` and the given models with their `max_concurrent`.
 */
export async function gatewayInFrontOf(
  server: Server,
  opts: { token: string; models: Readonly<Record<string, number>> },
): Promise<Gateway> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return startGateway({
    providersYaml: `up:\n  protocol: openai\n  base_url: http://127.0.0.1:${port}\n`,
    configYaml: [
      'listen: 127.0.0.1:0',
      `auth:\n  mode: token\n  client_tokens: [${opts.token}]`,
      'providers:\n  up:\n    api_key_env: UPSTREAM_TEST_KEY',
      'models:',
      ...Object.entries(opts.models).map(
        ([name, max]) => `  ${name}: { provider: up, max_concurrent: ${max} }`,
      ),
    ].join('\n'),
    env: { UPSTREAM_TEST_KEY: 'sk-test' },
  });
}

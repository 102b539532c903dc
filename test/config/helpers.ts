// Runs the real CLI (`src/main.ts`) as a child process against temp config files, so tests see
// exactly what an operator sees: stdout, the `[level] …` stderr lines and the exit status.

import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const MAIN = resolve(import.meta.dirname, '../../src/main.ts');
/** The installed entry point (`npx busbar`, `npm start`): what an operator runs. */
export const BIN = resolve(import.meta.dirname, '../../bin/busbar.js');

/** A small catalog: two public providers, a local one over http, and one never activated. */
export const CATALOG = `
openai:
  protocol: openai
  base_url: https://api.openai.com
  error_map:
    insufficient_quota: billing
anthropic:
  protocol: anthropic
  base_url: https://api.anthropic.com
local:
  protocol: openai
  base_url: http://127.0.0.1:11434
unused:
  protocol: not-a-protocol
  base_url: http://api.example.com
  error_map: {x: not-a-class}
`;

/** Token auth so failing configs print no open-relay banner. */
export const AUTH = 'auth: {mode: token, client_tokens: [t0ken]}\n';
export const PROVIDERS = 'providers:\n  openai: {api_key_env: T_OPENAI_KEY}\n';
export const MODELS = 'models:\n  gpt: {provider: openai, max_concurrent: 4}\n';
export const BASE = AUTH + PROVIDERS + MODELS;

/** Variables the child must not inherit (they would change file lookup or the embedded default). */
const SCRUB = [
  'BUSBAR_CONFIG',
  'BUSBAR_PROVIDERS',
  'BUSBAR_LOG',
  'RUST_LOG',
  'OPENAI_API_KEY',
  'ANTHROPIC_API_KEY',
  'GEMINI_API_KEY',
  'COHERE_API_KEY',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_REGION',
  'GROQ_API_KEY',
  'MISTRAL_API_KEY',
  'DEEPSEEK_API_KEY',
  'XAI_API_KEY',
  'OPENROUTER_API_KEY',
  'TOGETHER_API_KEY',
];

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'busbar-config-'));
}

export interface RunOptions {
  /** config.yaml text; omit for no deployment file (embedded default) unless `configPath` is set. */
  readonly config?: string;
  /** providers.yaml text; defaults to CATALOG. */
  readonly providers?: string;
  readonly args?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** Pass files by env var (default) or not at all (`none`: rely on ./config.yaml lookup in cwd). */
  readonly via?: 'env' | 'none';
  /** Extra files to create in the temp dir (name → content). */
  readonly files?: Readonly<Record<string, string>>;
  /** Script to run: src/main.ts (default) or bin/busbar.js. */
  readonly entry?: string;
}

export interface RunResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Messages of the `[error] …` lines, prefix removed. */
  readonly errors: string[];
  readonly warnings: string[];
  readonly infos: string[];
  readonly dir: string;
}

/** Runs `busbar` (default `--validate`) in a fresh temp dir; children run concurrently across tests. */
export async function run(opts: RunOptions = {}): Promise<RunResult> {
  const dir = tempDir();
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !SCRUB.includes(k)) env[k] = v;
  env.T_OPENAI_KEY = 'sk-test';
  // Node caches compiled (and type-stripped) modules here: children start in ~70 ms instead of ~180.
  env.NODE_COMPILE_CACHE ??= join(tmpdir(), 'busbar-test-compile-cache');
  writeFileSync(join(dir, 'providers.yaml'), opts.providers ?? CATALOG);
  if (opts.config !== undefined) writeFileSync(join(dir, 'config.yaml'), opts.config);
  for (const [name, text] of Object.entries(opts.files ?? {})) writeFileSync(join(dir, name), text);
  if ((opts.via ?? 'env') === 'env') {
    env.BUSBAR_PROVIDERS = join(dir, 'providers.yaml');
    if (opts.config !== undefined) env.BUSBAR_CONFIG = join(dir, 'config.yaml');
  }
  Object.assign(env, opts.env ?? {});
  const child = spawn(process.execPath, [opts.entry ?? MAIN, ...(opts.args ?? ['--validate'])], {
    cwd: dir,
    env,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const status = await new Promise<number | null>((done) => child.on('close', (code) => done(code)));
  clearTimeout(timer);
  const pick = (level: string) =>
    stderr
      .split('\n')
      .filter((l) => l.startsWith(`[${level}] `))
      .map((l) => l.slice(level.length + 3));
  return { status, stdout, stderr, errors: pick('error'), warnings: pick('warn'), infos: pick('info'), dir };
}

/** Options for `describe` so the child processes of a suite overlap (they are I/O-bound waits). */
export const CONCURRENT = { concurrency: 4 } as const;

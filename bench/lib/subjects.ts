// What the bench measures: the processes it starts and the rows of the results table. A row is one
// kind of request sent to one process; adding a configuration (governance on, N workers) is one entry
// in VARIANTS plus one entry in ROWS.

import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startCollector } from './collector.ts';
import { processTree } from './proc.ts';
import {
  BENCH_DIR,
  type Running,
  request,
  sleep,
  spawnServer,
  startGateway,
  startMinimalProxy,
} from './processes.ts';

export const CLIENT_TOKEN = 'bench-client-token';
export const ADMIN_TOKEN = 'bench-admin-token';
export const UPSTREAM_KEY = 'bench-upstream-key';
/** Models in the bench deployment (G-PERF-3 measures cold start with a 20-model config). */
const MODEL_COUNT = 20;

/** The provider catalog: one OpenAI-shaped and one Anthropic-shaped entry, both on the mock. */
export function catalogYaml(mockPort: number): string {
  return [
    'mock-openai:',
    '  protocol: openai',
    `  base_url: http://127.0.0.1:${mockPort}`,
    'mock-anthropic:',
    '  protocol: anthropic',
    `  base_url: http://127.0.0.1:${mockPort}`,
    '',
  ].join('\n');
}

export interface VariantOptions {
  readonly governance?: boolean;
  /** Governance on shared stores (issue 15) instead of SQLite: a PostgreSQL and a Redis URL. */
  readonly fleet?: { readonly postgres: string; readonly redis: string };
  readonly workers?: number;
  /** An OTLP/HTTP collector URL: trace export on. */
  readonly otlp?: string;
  /** Pool `p` routed by the `cheapest` policy (its member priced). */
  readonly cheapest?: boolean;
  /** Pool `p` routed by a webhook policy asked over this Unix socket. */
  readonly webhookSocket?: string;
  /** Pool `p` routed by a script policy that ranks its members in lane order. */
  readonly script?: boolean;
  /** The operator dashboard served (needs `governance`). */
  readonly dashboard?: boolean;
}

/**
 * The deployment of G-PERF-8: token auth, governance off, one model per pool with
 * max_concurrent 256. Pools: `p` (OpenAI upstream), `slow` (the same, answered after the mock's slow
 * delay) and `xp` (Anthropic upstream, for OpenAI → Anthropic translation). Filler models bring the
 * total to 20.
 */
export function deploymentYaml(v: VariantOptions = {}): string {
  const lines = [
    'listen: 127.0.0.1:0',
    `workers: ${v.workers ?? 1}`,
    'auth:',
    '  mode: token',
    `  client_tokens: [${CLIENT_TOKEN}]`,
    'providers:',
    '  mock-openai: { api_key_env: BENCH_UPSTREAM_KEY }',
    '  mock-anthropic: { api_key_env: BENCH_UPSTREAM_KEY }',
    'models:',
    '  bench-model: { provider: mock-openai, max_concurrent: 256 }',
    '  bench-slow: { provider: mock-openai, max_concurrent: 256 }',
    '  claude-bench: { provider: mock-anthropic, max_concurrent: 256 }',
  ];
  for (let i = 3; i < MODEL_COUNT; i++)
    lines.push(`  filler-${String(i).padStart(2, '0')}: { provider: mock-openai, max_concurrent: 256 }`);
  lines.push(
    'pools:',
    v.cheapest
      ? '  p: { route: cheapest, members: [{ target: bench-model, cost_per_mtok: 1.5 }] }'
      : v.webhookSocket !== undefined
        ? `  p: { route: webhook, policy: { url: "unix:${v.webhookSocket}" }, members: [{ target: bench-model }] }`
        : v.script
          ? '  p: { route: script, policy: { script: "candidates.map(c => c.idx)" }, members: [{ target: bench-model }] }'
          : '  p: { members: [{ target: bench-model }] }',
    '  slow: { members: [{ target: bench-slow }] }',
    '  xp: { members: [{ target: claude-bench }] }',
  );
  if (v.otlp !== undefined) lines.push('observability:', `  otlp_endpoint: "${v.otlp}"`);
  if (v.governance) {
    lines.push(
      'governance:',
      '  enabled: true',
      `  admin_token: ${ADMIN_TOKEN}`,
      ...(v.fleet === undefined
        ? [`  db_path: ${path.join(mkdtempSync(path.join(tmpdir(), 'busbar-bench-gov-')), 'gov.db')}`]
        : [
            `  store: ${v.fleet.postgres}`,
            `  rate_store: ${v.fleet.redis}`,
            `  rate_store_prefix: "${FLEET_PREFIX}"`,
          ]),
    );
  }
  if (v.dashboard) lines.push('dashboard:', '  enabled: true');
  return `${lines.join('\n')}\n`;
}

/** One dashboard open on `port`: its live stream read (and discarded) as a browser would. */
function watchDashboard(port: number): Promise<() => void> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: '127.0.0.1', port, path: '/ui/api/live', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } },
      (res) => {
        if (res.statusCode !== 200) return reject(new Error(`/ui/api/live answered ${res.statusCode}`));
        res.on('data', () => {});
        resolve(() => req.destroy());
      },
    );
    req.on('error', reject);
  });
}

export function startBusbar(
  name: string,
  mockPort: number,
  v: VariantOptions = {},
  nodeFlags: readonly string[] = [],
  entry?: string,
): Promise<Running> {
  return startGateway(name, {
    configYaml: deploymentYaml(v),
    providersYaml: catalogYaml(mockPort),
    env: { BENCH_UPSTREAM_KEY: UPSTREAM_KEY },
    nodeFlags,
    ...(entry === undefined ? {} : { entry }),
  });
}

/** After start: the credential clients must present, or why the row cannot run on this build. */
export type Readiness = { readonly token: string } | { readonly skip: string };

export interface Variant {
  readonly key: string;
  start(mockPort: number): Promise<Running>;
  ready(running: Running): Promise<Readiness>;
}

const tokenReady = async (): Promise<Readiness> => ({ token: CLIENT_TOKEN });

/** A virtual key minted through the admin API, with `fields` (limits, a budget). */
function keyReady(fields: Record<string, unknown>): (running: Running) => Promise<Readiness> {
  return async (running) => {
    const res = await request(
      running.port,
      'POST',
      '/admin/keys',
      { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      JSON.stringify({ name: 'bench', ...fields }),
    );
    const secret = res.status === 201 ? (JSON.parse(res.body) as { secret?: unknown }).secret : undefined;
    if (typeof secret === 'string') return { token: secret };
    return { skip: `POST /admin/keys answered ${res.status}: no virtual key to measure with` };
  };
}

/** The shared stores of the fleet rows: the local PostgreSQL and Redis (the machine notes). */
const FLEET_ADMIN_URL = process.env.BENCH_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';
const FLEET_REDIS_URL = process.env.BENCH_REDIS ?? 'redis://127.0.0.1:6379';
const FLEET_DATABASE = 'busbar_bench';
const FLEET_PREFIX = 'busbar-bench:';

let fleetStores: Promise<{ postgres: string; redis: string }> | undefined;

/**
 * A fresh `busbar_bench` database, made once per bench run and shared by every fleet process of
 * it, as replicas share it (dropped and made again by the next run; left behind for inspection).
 */
function freshFleetStores(): Promise<{ postgres: string; redis: string }> {
  fleetStores ??= makeFleetStores();
  return fleetStores;
}

async function makeFleetStores(): Promise<{ postgres: string; redis: string }> {
  const { default: postgres } = await import('postgres');
  const sql = postgres(FLEET_ADMIN_URL, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`DROP DATABASE IF EXISTS ${FLEET_DATABASE} WITH (FORCE)`);
    await sql.unsafe(`CREATE DATABASE ${FLEET_DATABASE}`);
  } finally {
    await sql.end({ timeout: 1 });
  }
  const url = new URL(FLEET_ADMIN_URL);
  url.pathname = `/${FLEET_DATABASE}`;
  return { postgres: url.toString(), redis: FLEET_REDIS_URL };
}

export const VARIANTS: readonly Variant[] = [
  { key: 'minimal-proxy', start: (mockPort) => startMinimalProxy(mockPort), ready: tokenReady },
  { key: 'busbar', start: (mockPort) => startBusbar('busbar', mockPort), ready: tokenReady },
  {
    // The cross-protocol row has a process of its own, so every process measured under load has
    // served one row, as the minimal proxy has (V8 sizes the young generation by what it served).
    key: 'busbar-xproto',
    start: (mockPort) => startBusbar('busbar-xproto', mockPort),
    ready: tokenReady,
  },
  {
    // Governance on: every inference request needs a virtual key minted through the admin API
    // (G-GOV-1, G-ADM-7); each request is charged the flat fee in SQLite.
    key: 'busbar-governance',
    start: (mockPort) => startBusbar('busbar-governance', mockPort, { governance: true }),
    ready: keyReady({}),
  },
  {
    // Governance on PostgreSQL + Redis (issue 15, G-PERF-1b ≤ 1.3×): a capped, rate-limited key,
    // so every request takes the Redis window, a PostgreSQL reservation and a batched settlement.
    key: 'busbar-governance-fleet',
    start: async (mockPort) =>
      startBusbar('busbar-governance-fleet', mockPort, { governance: true, fleet: await freshFleetStores() }),
    ready: keyReady({ max_budget_cents: 1_000_000_000_000, rpm_limit: 1_000_000_000 }),
  },
  {
    // The dashboard (issue 17, ≤ 2 % CPU per request over `busbar-governance`): served, and one
    // dashboard's live stream open for the whole run (per-key figures are read only then).
    key: 'busbar-dashboard',
    start: async (mockPort) => {
      const running = await startBusbar('busbar-dashboard', mockPort, { governance: true, dashboard: true });
      const close = await watchDashboard(running.port);
      return {
        ...running,
        stop: async () => {
          close();
          await running.stop();
        },
      };
    },
    ready: keyReady({}),
  },
  {
    // A native routing policy (issue 13, G-PERF-1b): pool p ordered by `cheapest`.
    key: 'busbar-cheapest',
    start: (mockPort) => startBusbar('busbar-cheapest', mockPort, { cheapest: true }),
    ready: tokenReady,
  },
  {
    // A script policy (issue 13): each decision evaluated in the QuickJS sandbox's worker thread.
    key: 'busbar-script',
    start: (mockPort) => startBusbar('busbar-script', mockPort, { script: true }),
    ready: tokenReady,
  },
  {
    // A webhook policy over a Unix socket (issue 13): a stand-in hook process answers each decision.
    key: 'busbar-webhook',
    start: async (mockPort) => {
      const dir = mkdtempSync(path.join(tmpdir(), 'busbar-bench-hook-'));
      const socket = path.join(dir, 'hook.sock');
      const hook = await spawnServer({
        name: 'policy-hook',
        args: [path.join(BENCH_DIR, 'policy-hook.ts')],
        env: { HOOK_SOCKET: socket },
        announce: 'stdout-json',
      });
      const running = await startBusbar('busbar-webhook', mockPort, { webhookSocket: socket });
      return {
        ...running,
        stop: async () => {
          await running.stop();
          await hook.stop();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
    ready: tokenReady,
  },
  {
    // Tracing on (issue 12): every request's spans exported to a stand-in OTLP collector process.
    key: 'busbar-traced',
    start: async (mockPort) => {
      const collector = await startCollector();
      const running = await startBusbar('busbar-traced', mockPort, { otlp: collector.url });
      return {
        ...running,
        stop: async () => {
          await running.stop();
          await collector.close();
        },
      };
    },
    ready: tokenReady,
  },
  {
    // `workers: 2` (a later issue): the row runs once the gateway forks workers.
    key: 'busbar-2w',
    start: (mockPort) => startBusbar('busbar-2w', mockPort, { workers: 2 }),
    ready: async (running) => {
      await sleep(500);
      if (processTree(running.pid).length > 1) return { token: CLIENT_TOKEN };
      return { skip: 'not available yet: `workers: 2` is accepted but the gateway still runs one process' };
    },
  },
];

/** The two request shapes the bench sends. */
export type Shape = 'openai' | 'anthropic';

export interface Row {
  readonly id: string;
  readonly label: string;
  /** A VARIANTS key, or `mock` for requests sent straight to the mock. */
  readonly process: string;
  readonly shape: Shape;
  /** The model (pool) the request names. */
  readonly model: string;
  /** Row whose latency is subtracted for "added" figures (the direct path to the same mock route). */
  readonly baseline: string | undefined;
  /** Included in the 200 ms-upstream figure (G-PERF-7). */
  readonly slow: boolean;
}

export const ROWS: readonly Row[] = [
  {
    id: 'direct',
    label: 'direct → mock (floor)',
    process: 'mock',
    shape: 'openai',
    model: 'p',
    baseline: undefined,
    slow: true,
  },
  {
    id: 'direct-anthropic',
    label: 'direct → mock /v1/messages (floor, cross-protocol)',
    process: 'mock',
    shape: 'anthropic',
    model: 'claude-bench',
    baseline: undefined,
    slow: false,
  },
  {
    id: 'minimal-proxy',
    label: 'minimal Node proxy (ceiling)',
    process: 'minimal-proxy',
    shape: 'openai',
    model: 'p',
    baseline: 'direct',
    slow: true,
  },
  {
    id: 'busbar',
    label: 'Busbar, same protocol',
    process: 'busbar',
    shape: 'openai',
    model: 'p',
    baseline: 'direct',
    slow: true,
  },
  {
    id: 'busbar-xproto',
    label: 'Busbar, OpenAI → Anthropic',
    process: 'busbar-xproto',
    shape: 'openai',
    model: 'xp',
    baseline: 'direct-anthropic',
    slow: false,
  },
  {
    id: 'busbar-governance',
    label: 'Busbar, governance on',
    process: 'busbar-governance',
    shape: 'openai',
    model: 'p',
    baseline: 'direct',
    slow: false,
  },
  {
    id: 'busbar-governance-fleet',
    label: 'Busbar, governance on PostgreSQL + Redis',
    process: 'busbar-governance-fleet',
    shape: 'openai',
    model: 'p',
    baseline: 'direct',
    slow: false,
  },
  {
    id: 'busbar-dashboard',
    label: 'Busbar, governance on, one dashboard open',
    process: 'busbar-dashboard',
    shape: 'openai',
    model: 'p',
    baseline: 'direct',
    slow: false,
  },
  {
    id: 'busbar-cheapest',
    label: 'Busbar, cheapest policy',
    process: 'busbar-cheapest',
    shape: 'openai',
    model: 'p',
    baseline: 'direct',
    slow: false,
  },
  {
    id: 'busbar-script',
    label: 'Busbar, script policy',
    process: 'busbar-script',
    shape: 'openai',
    model: 'p',
    baseline: 'direct',
    slow: false,
  },
  {
    id: 'busbar-webhook',
    label: 'Busbar, webhook policy (Unix socket)',
    process: 'busbar-webhook',
    shape: 'openai',
    model: 'p',
    baseline: 'direct',
    slow: false,
  },
  {
    id: 'busbar-traced',
    label: 'Busbar, tracing on',
    process: 'busbar-traced',
    shape: 'openai',
    model: 'p',
    baseline: 'direct',
    slow: false,
  },
  {
    id: 'busbar-2w',
    label: 'Busbar, 2 workers',
    process: 'busbar-2w',
    shape: 'openai',
    model: 'p',
    baseline: 'direct',
    slow: false,
  },
];

const MESSAGES = '"messages":[{"role":"user","content":"Say hello to the benchmark."}]';

/** The complete HTTP/1.1 request the load generator repeats. */
export function rawRequest(
  port: number,
  shape: Shape,
  model: string,
  stream: boolean,
  token: string,
): string {
  // The same body is valid Chat Completions and Anthropic Messages.
  const body = `{"model":"${model}","max_tokens":64,${stream ? '"stream":true,' : ''}${MESSAGES}}`;
  const auth =
    shape === 'openai'
      ? `Authorization: Bearer ${token}\r\n`
      : `x-api-key: ${token}\r\nanthropic-version: 2023-06-01\r\n`;
  return (
    `POST ${shape === 'openai' ? '/v1/chat/completions' : '/v1/messages'} HTTP/1.1\r\n` +
    `Host: 127.0.0.1:${port}\r\n` +
    auth +
    'Content-Type: application/json\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n` +
    body
  );
}

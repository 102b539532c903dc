// Shared harness for the reliability e2e tests (test/e2e/reliability*.test.ts): one mock upstream per
// lane (so each member can be made to fail on its own), a gateway built from a compact lane/pool
// description, and an HTTP client on its own keep-alive agent.
//
// The client agent is closed before the gateway is stopped: the gateway's shutdown waits for open
// client connections, so a lingering keep-alive socket would cost the 5 s SIGKILL fallback per gateway.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Agent, request } from 'undici';
import type { Protocol } from '../../src/protocols/names.ts';
import { type Gateway, REPO_ROOT, startGateway } from '../support/gateway-process.ts';
import { type MockUpstream, startMockUpstream } from '../support/mock-upstream.ts';
import { rawRequest } from '../support/raw-requests.ts';

export const TOKEN = 'rel-client-token';
export const AUTH = { authorization: `Bearer ${TOKEN}` };
const KEY_ENV = 'REL_UPSTREAM_KEY';
const ANTHROPIC_KEY_ENV = 'REL_UPSTREAM_ANTHROPIC_KEY';

export interface LaneSpec {
  /** Model (lane) name; also the upstream model id and the key of its mock. */
  name: string;
  /** Wire protocol of the lane's provider; default openai. */
  protocol?: Protocol;
  /** Default 16. */
  maxConcurrent?: number;
  maxRequests?: number;
  /**
   * Activate this entry of the shipped catalog (e.g. `openai`, with its error_map) with `base_url`
   * overridden to the lane's mock, instead of a private `p-<name>` catalog entry.
   */
  shippedEntry?: string;
}

export interface MemberSpec {
  target: string;
  weight?: number;
  context_max?: number;
}

export interface PoolSpec {
  members: Array<string | MemberSpec>;
  breaker?: Record<string, unknown>;
  failover?: Record<string, unknown>;
  on_exhausted?: Record<string, unknown>;
  affinity?: Record<string, unknown>;
}

export interface LaneStats {
  model: string;
  provider: string;
  max_concurrent: number;
  inflight: number;
  free_slots: number;
  ok: number;
  err: number;
  client_fault: number;
  usable: boolean;
  dead: boolean;
  dead_reason: string;
  cooldown_remaining_s: number;
  streak: number;
  budget: number;
}

export interface Stats {
  pools: Record<string, string[]>;
  lanes: LaneStats[];
}

export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The connection failed before the body ended (`body` holds what arrived). */
  cut: boolean;
}

export function json<T = Record<string, unknown>>(reply: Reply): T {
  try {
    return JSON.parse(reply.body) as T;
  } catch {
    throw new Error(`not JSON (status ${reply.status}): ${reply.body.slice(0, 300)}`);
  }
}

/** The `error` object of an OpenAI-shaped error reply. */
export function openaiError(reply: Reply): { message: string; type: string; code: unknown } {
  return json<{ error: { message: string; type: string; code: unknown } }>(reply).error;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Sleeps until just after the next wall-clock second starts. Breaker arithmetic is in whole epoch
 * seconds, so a cooldown of d seconds armed right after a boundary really lasts close to d seconds.
 */
export async function startOfSecond(): Promise<void> {
  await sleep(1000 - (Date.now() % 1000) + 15);
}

export class Client {
  readonly url: string;
  readonly agent = new Agent({ keepAliveTimeout: 30_000, connections: 1024 });

  constructor(url: string) {
    this.url = url;
  }

  async post(pathname: string, body: string, headers: Record<string, string> = {}): Promise<Reply> {
    const res = await request(`${this.url}${pathname}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...AUTH, ...headers },
      body,
      dispatcher: this.agent,
    });
    const chunks: Buffer[] = [];
    let cut = false;
    try {
      for await (const chunk of res.body) chunks.push(chunk as Buffer);
    } catch {
      cut = true;
    }
    const flat: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) {
      if (v !== undefined) flat[k] = Array.isArray(v) ? v.join(', ') : v;
    }
    return { status: res.statusCode, headers: flat, body: Buffer.concat(chunks).toString('utf8'), cut };
  }

  /** An OpenAI Chat Completions request for `name` (pool or model). */
  chat(
    name: string,
    opts: { stream?: boolean; prompt?: string; headers?: Record<string, string> } = {},
  ): Promise<Reply> {
    const { path: p, body } = rawRequest('openai', name, opts.stream ?? false, opts.prompt);
    return this.post(p, body, opts.headers);
  }

  async stats(): Promise<Stats> {
    const res = await request(`${this.url}/stats`, { headers: AUTH, dispatcher: this.agent });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`/stats ${res.statusCode}: ${text}`);
    return JSON.parse(text) as Stats;
  }

  async lane(name: string): Promise<LaneStats> {
    const lane = (await this.stats()).lanes.find((l) => l.model === name);
    if (lane === undefined) throw new Error(`lane ${name} not in /stats`);
    return lane;
  }

  /** Polls /stats until the lane reports no remaining cooldown (integer seconds; fails after `timeoutMs`). */
  async cooldownOver(name: string, timeoutMs = 6000): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const lane = await this.lane(name);
      if (lane.cooldown_remaining_s === 0) return;
      if (Date.now() > until) throw new Error(`lane ${name} still cooling down: ${JSON.stringify(lane)}`);
      await sleep(50);
    }
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

export interface Fleet {
  readonly gw: Gateway;
  readonly client: Client;
  /** The mock upstream behind each lane, by lane name. */
  readonly mocks: Readonly<Record<string, MockUpstream>>;
  mock(lane: string): MockUpstream;
  stop(): Promise<void>;
}

function memberObject(m: string | MemberSpec): MemberSpec {
  return typeof m === 'string' ? { target: m } : m;
}

/** Starts one mock per lane and a gateway (token auth) whose models and pools are `lanes` and `pools`. */
export async function startFleet(lanes: LaneSpec[], pools: Record<string, PoolSpec> = {}): Promise<Fleet> {
  const mocks: Record<string, MockUpstream> = {};
  await Promise.all(
    lanes.map(async (l) => {
      mocks[l.name] = await startMockUpstream();
    }),
  );
  const usesShipped = lanes.some((l) => l.shippedEntry !== undefined);
  let catalog = usesShipped ? `${readFileSync(path.join(REPO_ROOT, 'providers.yaml'), 'utf8')}\n` : '';
  const providers: Record<string, Record<string, unknown>> = {};
  const models: Record<string, Record<string, unknown>> = {};
  for (const l of lanes) {
    const protocol = l.protocol ?? 'openai';
    const keyEnv = protocol === 'anthropic' ? ANTHROPIC_KEY_ENV : KEY_ENV;
    let provider: string;
    if (l.shippedEntry !== undefined) {
      provider = l.shippedEntry;
      providers[provider] = { api_key_env: keyEnv, base_url: mocks[l.name]!.url };
    } else {
      provider = `p-${l.name}`;
      catalog += `${provider}:\n  protocol: ${protocol}\n  base_url: ${mocks[l.name]!.url}\n`;
      providers[provider] = { api_key_env: keyEnv };
    }
    models[l.name] = {
      provider,
      max_concurrent: l.maxConcurrent ?? 16,
      ...(l.maxRequests !== undefined ? { max_requests: l.maxRequests } : {}),
    };
  }
  const poolsJson: Record<string, unknown> = {};
  for (const [name, p] of Object.entries(pools))
    poolsJson[name] = { ...p, members: p.members.map(memberObject) };
  // JSON is YAML: the whole deployment file is written as one JSON document.
  const configYaml = JSON.stringify(
    {
      listen: '127.0.0.1:0',
      auth: { mode: 'token', client_tokens: [TOKEN] },
      providers,
      models,
      ...(Object.keys(poolsJson).length > 0 ? { pools: poolsJson } : {}),
    },
    null,
    1,
  );
  let gw: Gateway;
  try {
    gw = await startGateway({
      configYaml,
      providersYaml: catalog,
      env: { [KEY_ENV]: 'sk-rel-upstream-0001', [ANTHROPIC_KEY_ENV]: 'sk-ant-api03-rel-upstream-0002' },
    });
  } catch (err) {
    await Promise.all(Object.values(mocks).map((m) => m.close()));
    throw err;
  }
  const client = new Client(gw.url);
  return {
    gw,
    client,
    mocks,
    mock(lane: string): MockUpstream {
      const m = mocks[lane];
      if (m === undefined) throw new Error(`no mock for lane ${lane}`);
      return m;
    },
    async stop(): Promise<void> {
      await client.close();
      await gw.stop();
      await Promise.all(Object.values(mocks).map((m) => m.close()));
    },
  };
}

/** Enqueues `count` copies of a fault: a member that keeps failing for the rest of a test. */
export function failRepeatedly(
  mock: MockUpstream,
  count: number,
  fault: Parameters<MockUpstream['enqueue']>[0],
): void {
  mock.enqueue(...Array.from({ length: count }, () => ({ ...fault })));
}

/** The `model` an OpenAI chat completion reply reports (the mock echoes the lane that served it). */
export function servedBy(reply: Reply): string {
  return json<{ model: string }>(reply).model;
}

/** FNV-1a 64 (G-POOL-15), written independently of src/routing/affinity.ts. */
export function fnv1a64(key: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (const b of new TextEncoder().encode(key)) h = BigInt.asUintN(64, (h ^ BigInt(b)) * 0x100000001b3n);
  return h;
}

// What every admission of a fleet decides on, in Redis, in one script call for every request
// admitted meanwhile (batcher.ts): RPM/TPM windows (G-GOV-10…13 made fleet-wide) and budget
// reservations. Per (key, budget window) Redis holds a mirror of the spend PostgreSQL has (taken
// from it on first use), the sum reserved by requests in flight, and those reservations with
// their expiry. A request is admitted only if mirror + reserved + its worst case fits under the
// cap; settlement releases the reservation and adds the real cost to the mirror in one step, so
// concurrent replicas can never admit past the cap. Redis's clock is the fleet's one clock: rate
// windows, `Retry-After` and expiries follow it.
//
// Key names carry the configured prefix. The scripts build the names of the keys they touch from
// key ids (many per call), so this needs one Redis primary (replicas or Sentinel for failover),
// not Redis Cluster.

import { Redis } from 'ioredis';
import { Batcher } from './batcher.ts';
import type { RateLimits } from './rate.ts';

/** How long an untouched budget mirror lives; re-read from PostgreSQL after. */
const BUDGET_IDLE_MS = 35 * 86_400_000;

/**
 * ARGV: key prefix, mirror idle ms, reservation ttl ms, and the batch as one JSON array of
 * [key id, budget window, rpm, tpm, cap, cents, member] (-1 = none; one string, not seven
 * arguments a request: the client's cost is per argument). Per request: budget known? → rate
 * window → budget. Answers five numbers each: status (1 admitted, 0 rate limited, 2 over budget,
 * 3 budget mirror missing), seconds left in the rate window, the window, its requests and tokens.
 */
const ADMIT = `
local t = redis.call('TIME')
local now = tonumber(t[1])
local nowMs = now * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = now - now % 60
local left = window + 60 - now
local prefix, idle, ttl = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local out = {}
for _, item in ipairs(cjson.decode(ARGV[4])) do
  local id, budgetWindow, rpm, tpm, cap, cents, member = item[1], item[2], item[3], item[4], item[5], item[6], item[7]
  local rateKey = prefix .. 'rate:' .. id
  local budgetKey = prefix .. 'budget:' .. id .. ':' .. budgetWindow
  local heldKey = prefix .. 'held:' .. id .. ':' .. budgetWindow
  local status, requests, tokens, spent = 1, 0, 0, 0
  if cap >= 0 then
    spent = tonumber(redis.call('HGET', budgetKey, 'spent'))
    if spent == nil then status = 3 end
  end
  if status == 1 and (rpm >= 0 or tpm >= 0) then
    if tonumber(redis.call('HGET', rateKey, 'w')) == window then
      requests = tonumber(redis.call('HGET', rateKey, 'r')) or 0
      tokens = tonumber(redis.call('HGET', rateKey, 't')) or 0
    else
      redis.call('HSET', rateKey, 'w', window, 'r', 0, 't', 0)
    end
    if (tpm >= 0 and tokens >= tpm) or (rpm >= 0 and requests >= rpm) then
      status = 0
    else
      requests = redis.call('HINCRBY', rateKey, 'r', 1)
    end
    redis.call('EXPIRE', rateKey, 120)
  end
  if status == 1 and cap >= 0 then
    local reserved = tonumber(redis.call('HGET', budgetKey, 'reserved')) or 0
    local expired = redis.call('ZRANGEBYSCORE', heldKey, '-inf', nowMs)
    if #expired > 0 then
      for _, m in ipairs(expired) do reserved = reserved - tonumber(string.match(m, ':(%d+)$')) end
      if reserved < 0 then reserved = 0 end
      redis.call('ZREMRANGEBYSCORE', heldKey, '-inf', nowMs)
    end
    if spent + reserved + cents <= cap then
      reserved = reserved + cents
      redis.call('ZADD', heldKey, nowMs + ttl, member)
    else
      status = 2
    end
    redis.call('HSET', budgetKey, 'reserved', reserved)
    redis.call('PEXPIRE', budgetKey, idle)
    redis.call('PEXPIRE', heldKey, idle)
  end
  local n = #out
  out[n + 1], out[n + 2], out[n + 3], out[n + 4], out[n + 5] = status, left, window, requests, tokens
end
return out
`;

/**
 * A batch of finished requests (ARGV: key prefix, batch name, and one JSON array of
 * [key id, budget window, member or '', cost, tokens, rate window]). Releases each reservation,
 * adds the cost to the mirror (if the mirror exists: a missing one is read from PostgreSQL when
 * next needed) and credits tokens to a live rate window (never creating one, G-GOV-12). A batch
 * whose name was seen in the last minute is skipped: sent again after a lost answer, it is not
 * counted twice.
 */
const SETTLE = `
local prefix = ARGV[1]
if redis.call('SET', prefix .. 'settled:' .. ARGV[2], 1, 'NX', 'PX', 60000) == false then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1])
local live = now - now % 60
for _, item in ipairs(cjson.decode(ARGV[3])) do
  local id, budgetWindow, member, cost, tokens, window = item[1], item[2], item[3], item[4], item[5], item[6]
  local budgetKey = prefix .. 'budget:' .. id .. ':' .. budgetWindow
  local heldKey = prefix .. 'held:' .. id .. ':' .. budgetWindow
  local rateKey = prefix .. 'rate:' .. id
  if member ~= '' and redis.call('ZREM', heldKey, member) == 1 then
    local reserved = (tonumber(redis.call('HGET', budgetKey, 'reserved')) or 0) - tonumber(string.match(member, ':(%d+)$'))
    redis.call('HSET', budgetKey, 'reserved', math.max(0, reserved))
  end
  if cost > 0 and redis.call('HEXISTS', budgetKey, 'spent') == 1 then
    redis.call('HINCRBY', budgetKey, 'spent', cost)
  end
  if tokens > 0 and redis.call('EXISTS', rateKey) == 1 then
    if tonumber(redis.call('HGET', rateKey, 'w')) ~= live then
      redis.call('HSET', rateKey, 'w', live, 'r', 0, 't', 0)
    end
    if window <= live then redis.call('HINCRBY', rateKey, 't', tokens) end
    redis.call('EXPIRE', rateKey, 120)
  end
end
return 1
`;

/** Keeps live reservations from expiring (KEYS: reservations; ARGV: ttl ms, then a member each). */
const RENEW = `
local t = redis.call('TIME')
local nowMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expiry = nowMs + tonumber(ARGV[1])
for i, key in ipairs(KEYS) do redis.call('ZADD', key, 'XX', expiry, ARGV[i + 1]) end
return 0
`;

interface Scripted {
  busbarAdmit(keys: number, ...args: (string | number)[]): Promise<number[]>;
  busbarSettle(keys: number, ...args: (string | number)[]): Promise<number>;
  busbarRenew(keys: number, ...args: (string | number)[]): Promise<number>;
}

/** One admission as the script sees it. */
export interface AdmitAsk {
  readonly keyId: string;
  readonly limits: RateLimits;
  /** Null: the key is uncapped (no reservation). */
  readonly cap: number | null;
  readonly window: number;
  readonly cents: number;
  /** `<id>:<cents>`: the reservation's name in Redis. */
  readonly member: string;
}

export type AdmitAnswer =
  | { readonly kind: 'admitted'; readonly rateWindow: number; readonly headroom: number | null }
  | { readonly kind: 'rate_limited'; readonly retryAfterSecs: number }
  | { readonly kind: 'over_budget' }
  /** Redis has no spend mirror for this (key, window) yet: read it from PostgreSQL, then ask again. */
  | { readonly kind: 'unknown_budget' };

/** One finished request as the settle script sees it. */
export interface RedisCharge {
  readonly keyId: string;
  readonly window: number;
  readonly member: string;
  readonly cents: number;
  readonly tokens: number;
  readonly rateWindow: number;
}

/** The most requests one script call handles. */
const BATCH_MAX = 256;

/** `1 − used/limit` clamped to [0, 1]; a limit of 0 leaves none. */
function left(used: number, limit: number): number {
  return limit <= 0 ? 0 : Math.min(1, Math.max(0, 1 - used / limit));
}

const rateKey = (keyId: string): string => `rate:${keyId}`;
const budgetKey = (keyId: string, window: number): string => `budget:${keyId}:${window}`;
const heldKey = (keyId: string, window: number): string => `held:${keyId}:${window}`;

/** `<id>:<cents>`: a reservation's member carries its amount, so expiry knows what to release. */
export function reservationMember(id: string, cents: number): string {
  return `${id}:${cents}`;
}

export class FleetRedis {
  readonly #redis: Redis & Scripted;
  readonly #admits: Batcher<AdmitAsk, AdmitAnswer>;
  readonly #ttlMs: number;
  /** The scripts build key names themselves, so they get the prefix ioredis adds to KEYS. */
  readonly #prefix: string;

  /**
   * Connects in the background and reconnects by itself. While it is down every call fails at
   * once (no offline queue); a batch waits at most `waitMs` (batcher.ts). Calls are batched here,
   * so ioredis's own auto-pipelining would only add work.
   */
  constructor(url: string, prefix: string, waitMs: number, ttlMs: number, onError: (err: Error) => void) {
    const redis = new Redis(url, {
      keyPrefix: prefix,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: waitMs,
      connectTimeout: Math.max(2000, waitMs),
      retryStrategy: (times) => Math.min(times * 100, 1000),
    });
    redis.on('error', onError);
    redis.defineCommand('busbarAdmit', { lua: ADMIT });
    redis.defineCommand('busbarSettle', { lua: SETTLE });
    redis.defineCommand('busbarRenew', { lua: RENEW });
    this.#redis = redis as Redis & Scripted;
    this.#ttlMs = ttlMs;
    this.#prefix = prefix;
    this.#admits = new Batcher((asks) => this.#admitMany(asks), BATCH_MAX, waitMs, 'the rate store');
  }

  /** Resolves once connected, or rejects after `ms`. */
  ready(ms: number): Promise<void> {
    if (this.#redis.status === 'ready') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#redis.off('ready', onReady);
        reject(new Error(`no answer within ${ms} ms`));
      }, ms);
      const onReady = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.#redis.once('ready', onReady);
    });
  }

  /**
   * What each key has used of its current RPM/TPM window (the dashboard), by key id; a key with no
   * live window has used nothing. One pipelined read; on Redis's clock, as admission is.
   */
  async rateUse(ids: readonly string[]): Promise<Map<string, { requests: number; tokens: number }>> {
    const used = new Map<string, { requests: number; tokens: number }>();
    if (ids.length === 0) return used;
    const pipeline = this.#redis.pipeline();
    pipeline.time();
    for (const id of ids) pipeline.hmget(rateKey(id), 'w', 'r', 't');
    const replies = (await pipeline.exec()) ?? [];
    const [seconds] = (replies[0]?.[1] as [string, string] | undefined) ?? ['0'];
    const now = Number(seconds);
    const window = now - (now % 60);
    ids.forEach((id, i) => {
      const [w, r, t] = (replies[i + 1]?.[1] as (string | null)[] | undefined) ?? [];
      const live = Number(w) === window;
      used.set(id, { requests: live ? Number(r ?? 0) : 0, tokens: live ? Number(t ?? 0) : 0 });
    });
    return used;
  }

  /** Rate window, then budget reservation, for one request. Rejects when Redis does not answer. */
  admit(ask: AdmitAsk): Promise<AdmitAnswer> {
    return this.#admits.submit(ask);
  }

  async #admitMany(asks: readonly AdmitAsk[]): Promise<AdmitAnswer[]> {
    const items = asks.map((a) => [
      a.keyId,
      a.window,
      a.limits.rpm ?? -1,
      a.limits.tpm ?? -1,
      a.cap ?? -1,
      a.cents,
      a.member,
    ]);
    const flat = await this.#redis.busbarAdmit(
      0,
      this.#prefix,
      BUDGET_IDLE_MS,
      this.#ttlMs,
      JSON.stringify(items),
    );
    return asks.map(({ limits }, i): AdmitAnswer => {
      const status = flat[5 * i];
      const secsLeft = flat[5 * i + 1]!;
      if (status === 0) return { kind: 'rate_limited', retryAfterSecs: Math.max(1, secsLeft) };
      if (status === 2) return { kind: 'over_budget' };
      if (status === 3) return { kind: 'unknown_budget' };
      const [window, requests, tokens] = [flat[5 * i + 2]!, flat[5 * i + 3]!, flat[5 * i + 4]!];
      if (limits.rpm === null && limits.tpm === null)
        return { kind: 'admitted', rateWindow: -1, headroom: null };
      let headroom = 1;
      if (limits.rpm !== null) headroom = Math.min(headroom, left(requests, limits.rpm));
      if (limits.tpm !== null) headroom = Math.min(headroom, left(tokens, limits.tpm));
      return { kind: 'admitted', rateWindow: window, headroom };
    });
  }

  /** Sets the spend mirror of (key, window) unless another replica already did. */
  async mirror(keyId: string, window: number, spent: number): Promise<void> {
    const key = budgetKey(keyId, window);
    await this.#redis.multi().hsetnx(key, 'spent', spent).pexpire(key, BUDGET_IDLE_MS).exec();
  }

  /** Drops the spend mirror (a budget changed by the admin API): the next admission reads PostgreSQL. */
  async forgetMirror(keyId: string, window: number): Promise<void> {
    await this.#redis.hdel(budgetKey(keyId, window), 'spent');
  }

  /** Releases reservations, adds costs to mirrors and credits tokens, for one named batch. */
  async settle(batch: string, charges: readonly RedisCharge[]): Promise<void> {
    const items = charges.map((c) => [c.keyId, c.window, c.member, c.cents, c.tokens, c.rateWindow]);
    await this.#redis.busbarSettle(0, this.#prefix, batch, JSON.stringify(items));
  }

  /** Pushes the expiry of these live reservations `ttl` into the future. */
  async renew(held: readonly { keyId: string; window: number; member: string }[]): Promise<void> {
    for (let i = 0; i < held.length; i += BATCH_MAX) {
      const part = held.slice(i, i + BATCH_MAX);
      await this.#redis.busbarRenew(
        part.length,
        ...part.map((h) => heldKey(h.keyId, h.window)),
        this.#ttlMs,
        ...part.map((h) => h.member),
      );
    }
  }

  /** Forgets a key's rate window (deleted, or its limits cleared). */
  async forgetRates(keyId: string): Promise<void> {
    await this.#redis.del(rateKey(keyId));
  }

  /** What is reserved against (key, window) now (tests and diagnostics). */
  async reserved(keyId: string, window: number): Promise<number> {
    return Number((await this.#redis.hget(budgetKey(keyId, window), 'reserved')) ?? 0);
  }

  close(): void {
    this.#redis.disconnect();
  }
}

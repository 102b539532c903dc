// RPM and TPM windows shared by every replica, in Redis (G-GOV-10…13 made fleet-wide): one hash
// per key holding its live window's start, requests and tokens, read and changed by one Lua
// script, so RPM is exact however many replicas admit at once. Windows follow Redis's clock, the
// one clock the fleet shares, so `Retry-After` is the same whichever replica answers.

import { Redis } from 'ioredis';
import { Batcher } from './batcher.ts';
import type { RateLimits } from './rate.ts';

/**
 * Checks and counts one request per key given (a key may repeat: each sees the ones before it);
 * answers five numbers per key: admitted 0|1, seconds left in the window, window, requests, tokens.
 */
const ADMIT = `
local t = redis.call('TIME')
local now = tonumber(t[1])
local window = now - now % 60
local left = window + 60 - now
local out = {}
for i, key in ipairs(KEYS) do
  local requests, tokens = 0, 0
  if tonumber(redis.call('HGET', key, 'w')) == window then
    requests = tonumber(redis.call('HGET', key, 'r')) or 0
    tokens = tonumber(redis.call('HGET', key, 't')) or 0
  else
    redis.call('HSET', key, 'w', window, 'r', 0, 't', 0)
  end
  local rpm, tpm = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
  local admitted = 0
  if not ((tpm >= 0 and tokens >= tpm) or (rpm >= 0 and requests >= rpm)) then
    requests = redis.call('HINCRBY', key, 'r', 1)
    admitted = 1
  end
  redis.call('EXPIRE', key, 120)
  local n = #out
  out[n + 1], out[n + 2], out[n + 3], out[n + 4], out[n + 5] = admitted, left, window, requests, tokens
end
return out
`;

/** Credits finished answers' tokens to their keys' live windows (never creating one, G-GOV-12). */
const CREDIT = `
local t = redis.call('TIME')
local now = tonumber(t[1])
local live = now - now % 60
for i, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then
    if tonumber(redis.call('HGET', key, 'w')) ~= live then
      redis.call('HSET', key, 'w', live, 'r', 0, 't', 0)
    end
    if tonumber(ARGV[2 * i]) <= live then redis.call('HINCRBY', key, 't', ARGV[2 * i - 1]) end
    redis.call('EXPIRE', key, 120)
  end
end
return 0
`;

export type RateAnswer =
  | { readonly ok: true; readonly window: number; readonly headroom: number }
  | { readonly ok: false; readonly retryAfterSecs: number };

interface Scripted {
  /** `keys` key names, then a pair of numbers per key. */
  busbarAdmit(keys: number, ...args: (string | number)[]): Promise<number[]>;
  busbarCredit(keys: number, ...args: (string | number)[]): Promise<number>;
}

interface AdmitItem {
  readonly keyId: string;
  readonly limits: RateLimits;
}

interface CreditItem {
  readonly keyId: string;
  readonly tokens: number;
  readonly window: number;
}

/** The most keys one script call handles, and how long a batch may hang before the next goes. */
const BATCH_MAX = 256;

/** `1 − used/limit` clamped to [0, 1]; a limit of 0 leaves none. */
function left(used: number, limit: number): number {
  return limit <= 0 ? 0 : Math.min(1, Math.max(0, 1 - used / limit));
}

export class FleetRates {
  readonly #redis: Redis & Scripted;
  readonly #admits: Batcher<AdmitItem, RateAnswer>;
  readonly #credits: Batcher<CreditItem, void>;

  /**
   * Connects in the background and reconnects by itself. While it is down every call fails at
   * once (no offline queue); a batch waits at most `timeoutMs` (batcher.ts). Calls are batched
   * here, so ioredis's own auto-pipelining would only add work.
   */
  constructor(url: string, prefix: string, timeoutMs: number, onError: (err: Error) => void) {
    const redis = new Redis(url, {
      keyPrefix: prefix,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: timeoutMs,
      connectTimeout: Math.max(2000, timeoutMs),
      retryStrategy: (times) => Math.min(times * 100, 1000),
      lazyConnect: false,
    });
    redis.on('error', onError);
    redis.defineCommand('busbarAdmit', { lua: ADMIT });
    redis.defineCommand('busbarCredit', { lua: CREDIT });
    this.#redis = redis as Redis & Scripted;
    this.#admits = new Batcher((items) => this.#admitMany(items), BATCH_MAX, timeoutMs, 'the rate store');
    this.#credits = new Batcher((items) => this.#creditMany(items), BATCH_MAX, timeoutMs, 'the rate store');
  }

  /** Resolves once connected, or rejects after `ms` (startup checks the URL this way). */
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
   * Counts one request against the key's window, or refuses it with the seconds until the window
   * ends (≥ 1). Rejects when Redis does not answer.
   */
  admit(keyId: string, limits: RateLimits): Promise<RateAnswer> {
    return this.#admits.submit({ keyId, limits });
  }

  async #admitMany(items: readonly AdmitItem[]): Promise<RateAnswer[]> {
    const args: (string | number)[] = items.map((i) => `rate:${i.keyId}`);
    for (const i of items) args.push(i.limits.rpm ?? -1, i.limits.tpm ?? -1);
    const flat = await this.#redis.busbarAdmit(items.length, ...args);
    return items.map(({ limits }, i) => {
      const [admitted, secsLeft, window, requests, tokens] = flat.slice(5 * i, 5 * i + 5) as [
        number,
        number,
        number,
        number,
        number,
      ];
      if (admitted !== 1) return { ok: false, retryAfterSecs: Math.max(1, secsLeft) };
      let headroom = 1;
      if (limits.rpm !== null) headroom = Math.min(headroom, left(requests, limits.rpm));
      if (limits.tpm !== null) headroom = Math.min(headroom, left(tokens, limits.tpm));
      return { ok: true, window, headroom };
    });
  }

  /** Credits tokens of a request admitted in `window` (TPM is best effort, G-GOV-12). */
  credit(keyId: string, tokens: number, window: number): Promise<void> {
    return this.#credits.submit({ keyId, tokens, window });
  }

  async #creditMany(items: readonly CreditItem[]): Promise<void[]> {
    const args: (string | number)[] = items.map((i) => `rate:${i.keyId}`);
    for (const i of items) args.push(i.tokens, i.window);
    await this.#redis.busbarCredit(items.length, ...args);
    return [];
  }

  /** Forgets a key's window (deleted, or its limits cleared). */
  async forget(keyId: string): Promise<void> {
    await this.#redis.del(`rate:${keyId}`);
  }

  close(): void {
    this.#redis.disconnect();
  }
}

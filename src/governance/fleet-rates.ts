// RPM and TPM windows shared by every replica, in Redis (G-GOV-10…13 made fleet-wide): one hash
// per key holding its live window's start, requests and tokens, read and changed by one Lua
// script, so RPM is exact however many replicas admit at once. Windows follow Redis's clock, the
// one clock the fleet shares, so `Retry-After` is the same whichever replica answers.

import { Redis } from 'ioredis';
import type { RateLimits } from './rate.ts';

/** Checks and counts one request; answers [admitted 0|1, seconds left in the window, window, requests, tokens]. */
const ADMIT = `
local t = redis.call('TIME')
local now = tonumber(t[1])
local window = now - now % 60
local requests, tokens = 0, 0
if tonumber(redis.call('HGET', KEYS[1], 'w')) == window then
  requests = tonumber(redis.call('HGET', KEYS[1], 'r')) or 0
  tokens = tonumber(redis.call('HGET', KEYS[1], 't')) or 0
else
  redis.call('HSET', KEYS[1], 'w', window, 'r', 0, 't', 0)
end
local left = window + 60 - now
local rpm, tpm = tonumber(ARGV[1]), tonumber(ARGV[2])
if (tpm >= 0 and tokens >= tpm) or (rpm >= 0 and requests >= rpm) then
  redis.call('EXPIRE', KEYS[1], 120)
  return {0, left, window, requests, tokens}
end
requests = redis.call('HINCRBY', KEYS[1], 'r', 1)
redis.call('EXPIRE', KEYS[1], 120)
return {1, left, window, requests, tokens}
`;

/** Credits a finished answer's tokens to the live window (never creating an entry, G-GOV-12). */
const CREDIT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1])
local live = now - now % 60
if tonumber(redis.call('HGET', KEYS[1], 'w')) ~= live then
  redis.call('HSET', KEYS[1], 'w', live, 'r', 0, 't', 0)
end
if tonumber(ARGV[2]) <= live then redis.call('HINCRBY', KEYS[1], 't', ARGV[1]) end
redis.call('EXPIRE', KEYS[1], 120)
return 1
`;

export type RateAnswer =
  | { readonly ok: true; readonly window: number; readonly headroom: number }
  | { readonly ok: false; readonly retryAfterSecs: number };

interface Scripted {
  busbarAdmit(key: string, rpm: number, tpm: number): Promise<[number, number, number, number, number]>;
  busbarCredit(key: string, tokens: number, window: number): Promise<number>;
}

/** `1 − used/limit` clamped to [0, 1]; a limit of 0 leaves none. */
function left(used: number, limit: number): number {
  return limit <= 0 ? 0 : Math.min(1, Math.max(0, 1 - used / limit));
}

export class FleetRates {
  readonly #redis: Redis & Scripted;

  /**
   * Connects in the background and reconnects by itself. While it is down every call fails at
   * once (no offline queue) and none waits past `timeoutMs`, so a request never hangs on Redis.
   */
  constructor(url: string, prefix: string, timeoutMs: number, onError: (err: Error) => void) {
    const redis = new Redis(url, {
      keyPrefix: prefix,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: timeoutMs,
      connectTimeout: timeoutMs,
      enableAutoPipelining: true,
      retryStrategy: (times) => Math.min(times * 100, 1000),
      lazyConnect: false,
    });
    redis.on('error', onError);
    redis.defineCommand('busbarAdmit', { numberOfKeys: 1, lua: ADMIT });
    redis.defineCommand('busbarCredit', { numberOfKeys: 1, lua: CREDIT });
    this.#redis = redis as Redis & Scripted;
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
  async admit(keyId: string, limits: RateLimits): Promise<RateAnswer> {
    const [admitted, secsLeft, window, requests, tokens] = await this.#redis.busbarAdmit(
      `rate:${keyId}`,
      limits.rpm ?? -1,
      limits.tpm ?? -1,
    );
    if (admitted !== 1) return { ok: false, retryAfterSecs: Math.max(1, secsLeft) };
    let headroom = 1;
    if (limits.rpm !== null) headroom = Math.min(headroom, left(requests, limits.rpm));
    if (limits.tpm !== null) headroom = Math.min(headroom, left(tokens, limits.tpm));
    return { ok: true, window, headroom };
  }

  /** Credits tokens of a request admitted in `window` (TPM is best effort, G-GOV-12). */
  credit(keyId: string, tokens: number, window: number): Promise<number> {
    return this.#redis.busbarCredit(`rate:${keyId}`, tokens, window);
  }

  /** Forgets a key's window (deleted, or its limits cleared). */
  async forget(keyId: string): Promise<void> {
    await this.#redis.del(`rate:${keyId}`);
  }

  close(): void {
    this.#redis.disconnect();
  }
}

// `limits:` (issue 10): what one client may hold — connections, time and bytes — with defaults
// that keep an honest client unaffected and a hostile one from holding a socket without paying;
// and (issue 14) the numbers that were fixed in code, with those fixed values as defaults.

import { fs } from '../builtins.ts';
import type { RawLimits } from './raw.ts';
import type { LimitsConfig } from './types.ts';

const DEFAULTS = {
  headerTimeoutSecs: 10,
  keepaliveIdleSecs: 65,
  bodyGraceSecs: 10,
  // 32 MiB at this rate is about 8.5 minutes: slow links pass, a trickle of bytes does not.
  bodyMinBytesPerSec: 64 * 1024,
  maxConnectionsPerClient: 0,
  http2MaxConcurrentStreams: 100,
  http2SessionIdleSecs: 300,
  maxRequestBodyBytes: 32 * 1024 * 1024,
  requestDeadlineSecs: 120,
  maxInboundConcurrent: 0,
  upstreamTimeoutSecs: 300,
  upstreamConnectionsPerHost: 0,
  upstreamIdleSecs: 60,
  maxErrorBodyBytes: 256 * 1024,
  // Also the most it may be: G-SEC-23 caps every upstream Retry-After at a day before use
  // (reliability/breaker.ts applies the same ceiling), so a larger value could not be honoured.
  maxRetryAfterSecs: 86_400,
  defaultMaxTokens: 4096,
} as const;

/**
 * The longest delay a Node timer holds (2^31 - 1 ms, about 24.8 days). A longer one fires after
 * 1 ms instead, so a duration past it would cut every stream or attempt at once: it is refused.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** `<path> must be <= …` when `value` (in units of `unitMs` milliseconds) does not fit a timer. */
export function timerRangeError(path: string, value: number | undefined, unitMs: number): string | undefined {
  const most = Math.floor(MAX_TIMER_MS / unitMs);
  return value !== undefined && value > most
    ? `${path} must be <= ${most} (the longest timer, about 24.8 days)`
    : undefined;
}

/** Eight bodies at the body cap. */
const BUFFERED_BODIES = 8;

/** File descriptors this process may open (the soft limit), when the platform says. */
function openFileLimit(): number | undefined {
  try {
    const line = /^Max open files\s+(\d+)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
    return line === null ? undefined : Number(line[1]);
  } catch {
    return undefined;
  }
}

/**
 * The default connection cap: three quarters of the descriptor limit, so upstream sockets, files
 * and /healthz still have room when clients take everything they are allowed.
 */
export function defaultMaxConnections(limit = openFileLimit()): number {
  return limit === undefined ? 4096 : Math.max(64, Math.floor(limit * 0.75));
}

export function limitErrors(raw: RawLimits | undefined): string[] {
  const errors: string[] = [];
  const positive = (key: string, value: number | undefined): void => {
    if (value === 0) errors.push(`limits.${key} must be >= 1`);
  };
  /** Seconds that become a timer: within a timer's range (and >= 1 unless `zeroOk`). */
  const seconds = (key: string, value: number | undefined, zeroOk = false): void => {
    if (!zeroOk) positive(key, value);
    const tooLong = timerRangeError(`limits.${key}`, value, 1000);
    if (tooLong !== undefined) errors.push(tooLong);
  };
  seconds('header_timeout_secs', raw?.headerTimeoutSecs);
  seconds('keepalive_idle_secs', raw?.keepaliveIdleSecs);
  seconds('body_grace_secs', raw?.bodyGraceSecs, true);
  positive('body_min_bytes_per_sec', raw?.bodyMinBytesPerSec);
  positive('max_connections', raw?.maxConnections);
  positive('http2_max_concurrent_streams', raw?.http2MaxConcurrentStreams);
  seconds('http2_session_idle_secs', raw?.http2SessionIdleSecs);
  positive('max_buffered_body_bytes', raw?.maxBufferedBodyBytes);
  positive('max_request_body_bytes', raw?.maxRequestBodyBytes);
  seconds('request_deadline_secs', raw?.requestDeadlineSecs);
  seconds('tls_handshake_timeout_secs', raw?.tlsHandshakeTimeoutSecs);
  seconds('upstream_timeout_secs', raw?.upstreamTimeoutSecs);
  seconds('upstream_idle_secs', raw?.upstreamIdleSecs);
  positive('max_error_body_bytes', raw?.maxErrorBodyBytes);
  positive('max_retry_after_secs', raw?.maxRetryAfterSecs);
  if ((raw?.maxRetryAfterSecs ?? 0) > DEFAULTS.maxRetryAfterSecs)
    errors.push(`limits.max_retry_after_secs must be <= ${DEFAULTS.maxRetryAfterSecs}`);
  positive('default_max_tokens', raw?.defaultMaxTokens);
  return errors;
}

export function resolveLimits(raw: RawLimits | undefined): LimitsConfig {
  const headerTimeoutSecs = raw?.headerTimeoutSecs ?? DEFAULTS.headerTimeoutSecs;
  const maxRequestBodyBytes = raw?.maxRequestBodyBytes ?? DEFAULTS.maxRequestBodyBytes;
  return {
    headerTimeoutMs: headerTimeoutSecs * 1000,
    keepAliveIdleMs: (raw?.keepaliveIdleSecs ?? DEFAULTS.keepaliveIdleSecs) * 1000,
    bodyGraceMs: (raw?.bodyGraceSecs ?? DEFAULTS.bodyGraceSecs) * 1000,
    bodyMinBytesPerSec: raw?.bodyMinBytesPerSec ?? DEFAULTS.bodyMinBytesPerSec,
    maxConnections: raw?.maxConnections ?? defaultMaxConnections(),
    maxConnectionsPerClient: raw?.maxConnectionsPerClient ?? DEFAULTS.maxConnectionsPerClient,
    http2MaxConcurrentStreams: raw?.http2MaxConcurrentStreams ?? DEFAULTS.http2MaxConcurrentStreams,
    http2SessionIdleMs: (raw?.http2SessionIdleSecs ?? DEFAULTS.http2SessionIdleSecs) * 1000,
    maxBufferedBodyBytes: raw?.maxBufferedBodyBytes ?? BUFFERED_BODIES * maxRequestBodyBytes,
    maxRequestBodyBytes,
    requestDeadlineSecs: raw?.requestDeadlineSecs ?? DEFAULTS.requestDeadlineSecs,
    maxInboundConcurrent: raw?.maxInboundConcurrent ?? DEFAULTS.maxInboundConcurrent,
    tlsHandshakeTimeoutMs: (raw?.tlsHandshakeTimeoutSecs ?? headerTimeoutSecs) * 1000,
    upstream: {
      timeoutMs: (raw?.upstreamTimeoutSecs ?? DEFAULTS.upstreamTimeoutSecs) * 1000,
      connectionsPerHost: raw?.upstreamConnectionsPerHost ?? DEFAULTS.upstreamConnectionsPerHost,
      idleMs: (raw?.upstreamIdleSecs ?? DEFAULTS.upstreamIdleSecs) * 1000,
      maxErrorBodyBytes: raw?.maxErrorBodyBytes ?? DEFAULTS.maxErrorBodyBytes,
      maxRetryAfterSecs: raw?.maxRetryAfterSecs ?? DEFAULTS.maxRetryAfterSecs,
      defaultMaxTokens: raw?.defaultMaxTokens ?? DEFAULTS.defaultMaxTokens,
    },
  };
}

/** The upstream bounds when no `limits:` block says otherwise. */
export const DEFAULT_UPSTREAM_LIMITS = resolveLimits(undefined).upstream;

// `limits:` (issue 10): what one client may hold — connections, time and bytes — with defaults
// that keep an honest client unaffected and a hostile one from holding a socket without paying.

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
  // Eight bodies at the 32 MiB cap.
  maxBufferedBodyBytes: 8 * 32 * 1024 * 1024,
} as const;

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
  positive('header_timeout_secs', raw?.headerTimeoutSecs);
  positive('keepalive_idle_secs', raw?.keepaliveIdleSecs);
  positive('body_min_bytes_per_sec', raw?.bodyMinBytesPerSec);
  positive('max_connections', raw?.maxConnections);
  positive('http2_max_concurrent_streams', raw?.http2MaxConcurrentStreams);
  positive('http2_session_idle_secs', raw?.http2SessionIdleSecs);
  positive('max_buffered_body_bytes', raw?.maxBufferedBodyBytes);
  return errors;
}

export function resolveLimits(raw: RawLimits | undefined): LimitsConfig {
  return {
    headerTimeoutMs: (raw?.headerTimeoutSecs ?? DEFAULTS.headerTimeoutSecs) * 1000,
    keepAliveIdleMs: (raw?.keepaliveIdleSecs ?? DEFAULTS.keepaliveIdleSecs) * 1000,
    bodyGraceMs: (raw?.bodyGraceSecs ?? DEFAULTS.bodyGraceSecs) * 1000,
    bodyMinBytesPerSec: raw?.bodyMinBytesPerSec ?? DEFAULTS.bodyMinBytesPerSec,
    maxConnections: raw?.maxConnections ?? defaultMaxConnections(),
    maxConnectionsPerClient: raw?.maxConnectionsPerClient ?? DEFAULTS.maxConnectionsPerClient,
    http2MaxConcurrentStreams: raw?.http2MaxConcurrentStreams ?? DEFAULTS.http2MaxConcurrentStreams,
    http2SessionIdleMs: (raw?.http2SessionIdleSecs ?? DEFAULTS.http2SessionIdleSecs) * 1000,
    maxBufferedBodyBytes: raw?.maxBufferedBodyBytes ?? DEFAULTS.maxBufferedBodyBytes,
  };
}

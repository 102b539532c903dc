// The failure disposition pipeline (G-BRK-1…3): an upstream answer's status and error facts,
// through the provider's error_map, to a canonical class and then to what the gateway does.

import type { ErrorClass } from '../config/types.ts';
import type { UpstreamErrorFacts } from '../protocols/codec.ts';
import { MAX_RETRY_AFTER_SECS } from './breaker.ts';

export type Disposition = 'client_fault' | 'transient' | 'hard_down' | 'context_length';

/** Stage C (exhaustive: a new class breaks the build here until it is handled). */
export function dispositionOf(cls: ErrorClass): Disposition {
  switch (cls) {
    case 'rate_limit':
    case 'overloaded':
    case 'server_error':
    case 'timeout':
    case 'network':
      return 'transient';
    case 'auth':
    case 'billing':
      return 'hard_down';
    case 'client_error':
      return 'client_fault';
    case 'context_length':
      return 'context_length';
    default: {
      const never: never = cls;
      throw new Error(`unknown error class ${String(never)}`);
    }
  }
}

function mapped(
  errorMap: Readonly<Record<string, ErrorClass>>,
  key: string | undefined,
  status: number,
): ErrorClass | undefined {
  if (key === undefined || !Object.hasOwn(errorMap, key)) return undefined;
  const cls = errorMap[key]!;
  // A 5xx is never disguised as a no-penalty context-length error (G-BRK-6).
  return cls === 'context_length' && status >= 500 ? undefined : cls;
}

/** Stage B, first match wins. */
export function classifyStatus(
  status: number,
  facts: UpstreamErrorFacts,
  errorMap: Readonly<Record<string, ErrorClass>>,
): ErrorClass {
  const byCode = mapped(errorMap, facts.code, status);
  if (byCode !== undefined) return byCode;
  if (facts.code === 'context_length_exceeded' && (status === 400 || status === 413)) return 'context_length';
  const byType = mapped(errorMap, facts.type, status);
  if (byType !== undefined) return byType;
  if (status === 401 || status === 403) return 'auth';
  if (status === 429) return 'rate_limit';
  if (status === 408) return 'timeout';
  if (status === 529) return 'overloaded';
  if (status >= 500 && status <= 599) return 'server_error';
  return 'client_error';
}

/** Stage A's Retry-After: a non-negative integer of seconds, capped; HTTP dates are ignored. */
export function parseRetryAfter(
  value: string | string[] | undefined,
  ceilingSecs = MAX_RETRY_AFTER_SECS,
): number | undefined {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  if (!/^\d+$/.test(trimmed)) return undefined;
  return Math.min(Number(trimmed), ceilingSecs, MAX_RETRY_AFTER_SECS);
}

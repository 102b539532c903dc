// Tool-call ids in each protocol's native form (P-XLT-5). The mapping is a deterministic prefix
// swap, so an id that went out as `call_X` to an OpenAI client comes back on the next turn and is
// turned into `toolu_X` again for Anthropic: no per-conversation state is needed.

import { randomBase62 } from './ids.ts';

const KNOWN_PREFIXES = ['toolu_', 'tooluse_', 'call_', 'fc_', 'gm_'] as const;

/** `id` rewritten to start with `prefix` (swapping a known foreign prefix), or a fresh id if empty. */
export function nativeToolId(id: string | undefined, prefix: string): string {
  if (id === undefined || id === '') return prefix + randomBase62(24);
  if (id.startsWith(prefix)) return id;
  const clean = id.replace(/[^A-Za-z0-9_-]/g, '_');
  for (const known of KNOWN_PREFIXES) {
    if (clean.startsWith(known)) return prefix + clean.slice(known.length);
  }
  return prefix + clean;
}

/**
 * The part of a tool-call id that every protocol's form of it shares (`toolu_X`, `call_X` and
 * `tooluse_X` are all `X`): what the gateway keys per-call memory by.
 */
export function toolIdStem(id: string): string {
  const clean = id.replace(/[^A-Za-z0-9_-]/g, '_');
  for (const known of KNOWN_PREFIXES) {
    if (clean.startsWith(known)) return clean.slice(known.length);
  }
  return clean;
}

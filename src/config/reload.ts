// What a configuration reload may change, and what it answers (docs/configuration.md, "Reloading").
// A reload re-reads both files, validates them as startup does, and swaps in a new routing table
// and request pipeline; requests already admitted finish on the ones they started with. It may
// change providers, models and pools (the routing) and governance's prices, and re-reads TLS files
// replaced at the same paths; every other section is bound to the running process (its socket, its TLS context, its workers, its sinks and stores, the limits its listener
// enforces) and a change to it is refused, naming the section, until a restart.

import { util } from '../builtins.ts';
import { line } from '../log.ts';
import type { GatewayConfig } from './types.ts';

export type ReloadResult =
  | {
      readonly ok: true;
      /** False when the files were unchanged (nothing was swapped). */
      readonly changed: boolean;
      readonly hash: string;
      readonly loadedAt: string;
      /** `<n> models, <m> pools`, for the log. */
      readonly summary: string;
    }
  | { readonly ok: false; readonly errors: readonly string[] };

/** The sections a reload keeps as they are, with the key a message names. */
const FIXED: readonly (readonly [keyof GatewayConfig, string])[] = [
  ['listen', 'listen'],
  ['tls', 'tls (its file paths; files replaced at the same paths are re-read)'],
  ['workers', 'workers'],
  ['auth', 'auth'],
  ['limits', 'limits'],
  ['security', 'security'],
  ['governance', 'governance (other than its prices)'],
  ['observability', 'observability'],
  ['dashboard', 'dashboard'],
  ['embeddedDefault', 'the config file itself (it was absent or appeared)'],
];

/**
 * What of a section must stay: all of it, except governance's prices, which a reload applies
 * (the guard a reload builds charges new requests at them; requests in flight settle at theirs).
 */
function fixedPart(config: GatewayConfig, key: keyof GatewayConfig): unknown {
  const value = config[key];
  if (key !== 'governance' || value === undefined) return value;
  const {
    defaultPrice: _price,
    prices: _prices,
    ...rest
  } = value as NonNullable<GatewayConfig['governance']>;
  return rest;
}

/** One line per section a reload cannot change that `next` changes. */
export function fixedSectionChanges(current: GatewayConfig, next: GatewayConfig): string[] {
  const errors: string[] = [];
  for (const [key, name] of FIXED) {
    if (!util.isDeepStrictEqual(fixedPart(current, key), fixedPart(next, key))) {
      errors.push(
        `${name} changed: a reload applies providers, models and pools; restart busbar to apply this`,
      );
    }
  }
  return errors;
}

/** The one line a reload logs: refused with why, or what was loaded. */
export function logReload(r: ReloadResult, by = ''): void {
  if (!r.ok) line('error', `config reload refused, the running config stays: ${r.errors.join('; ')}`);
  else if (r.changed)
    line('info', `config ${r.hash.slice(0, 12)} reloaded at ${r.loadedAt}${by}: ${r.summary}`);
}

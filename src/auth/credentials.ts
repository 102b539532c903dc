// Client credential extraction (G-SEC-2) and constant-time token checks (G-SEC-3, G-SEC-5).

import type { IncomingHttpHeaders } from 'node:http';
import { crypto } from '../builtins.ts';

function headerText(value: string | string[] | undefined): string | undefined {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

/**
 * The caller's credential: `Authorization: Bearer`, then `x-api-key`, then `x-goog-api-key`, then
 * Gemini's `?key=`. A non-Bearer Authorization (SigV4, Basic) falls through to the other carriers.
 */
export function extractCredential(headers: IncomingHttpHeaders, query: string): string | undefined {
  const authorization = headerText(headers.authorization);
  if (authorization !== undefined) {
    const space = authorization.indexOf(' ');
    if (space > 0 && authorization.slice(0, space).toLowerCase() === 'bearer') {
      const token = authorization.slice(space + 1).trim();
      if (token !== '') return token;
    }
  }
  const fromHeader = headerText(headers['x-api-key']) ?? headerText(headers['x-goog-api-key']);
  if (fromHeader !== undefined) return fromHeader;
  if (query.includes('key=')) {
    const key = new URLSearchParams(query).get('key');
    if (key) return key;
  }
  return undefined;
}

/**
 * Client tokens, kept as bytes; `check` compares against every entry with no early exit. Lengths
 * are compared first (a token's length is not secret, G-SEC-5); bytes only in constant time.
 */
export class TokenSet {
  readonly #tokens: readonly Buffer[];

  constructor(tokens: readonly string[]) {
    this.#tokens = tokens.map((t) => Buffer.from(t));
  }

  check(presented: string | undefined): boolean {
    return this.match(presented) >= 0;
  }

  /** The position of the presented token in the list, or -1; every entry is compared either way. */
  match(presented: string | undefined): number {
    if (presented === undefined) return -1;
    const candidate = Buffer.from(presented);
    let found = -1;
    for (let i = 0; i < this.#tokens.length; i++) {
      const token = this.#tokens[i]!;
      // Same work per entry whether or not the length matches: compare with itself when it does not.
      const same = token.length === candidate.length;
      const equal = crypto.timingSafeEqual(same ? candidate : token, token) && same;
      if (equal && found < 0) found = i;
    }
    return found;
  }
}

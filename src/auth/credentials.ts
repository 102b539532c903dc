// Client credential extraction (G-SEC-2) and constant-time token checks (G-SEC-3, G-SEC-5).

import { hash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

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

function digest(value: string): Buffer {
  return hash('sha256', value, 'buffer');
}

/** Client tokens, hashed once at startup; `check` compares against every entry (no early exit). */
export class TokenSet {
  readonly #digests: readonly Buffer[];

  constructor(tokens: readonly string[]) {
    this.#digests = tokens.map(digest);
  }

  check(presented: string | undefined): boolean {
    // Hash even when absent so missing and wrong credentials cost the same.
    const candidate = digest(presented ?? '');
    let ok = false;
    for (const d of this.#digests) ok = timingSafeEqual(candidate, d) || ok;
    return ok && presented !== undefined;
  }
}

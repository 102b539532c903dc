// Who is calling: the authenticate stage turns a request's credential into a principal, or refuses
// it (G-SEC-1…5). Later stages read the principal, never the raw credential check.

import type { IncomingHttpHeaders } from 'node:http';
import { crypto } from '../builtins.ts';
import type { AuthConfig } from '../config/types.ts';
import { extractCredential, TokenSet } from './credentials.ts';

export type Principal =
  /** `auth.mode: none`: anyone who can reach the listener. */
  | { readonly kind: 'anonymous' }
  /** A listed client token (`auth.mode: token`); `scope` tells one token from another (principalScope). */
  | { readonly kind: 'client_token'; readonly scope: string }
  /** `auth.mode: passthrough`: the caller's own credential goes upstream instead of the configured key. */
  | { readonly kind: 'passthrough'; readonly credential: string | undefined }
  /** A governance virtual key: its id and the names it may request (empty = all). */
  | { readonly kind: 'virtual_key'; readonly key: VirtualKeyRef }
  /**
   * A request signed over its body (SigV4): who it is is known once the body has been read.
   * `confirm` returns the principal, or undefined when the signature does not hold.
   */
  | { readonly kind: 'signed'; confirm(body: Uint8Array): Principal | undefined };

/** What the request path needs of a virtual key (governance owns the full record). */
export interface VirtualKeyRef {
  readonly id: string;
  readonly allowed_pools: readonly string[];
  /** Null = uncapped (then admission reserves nothing). */
  readonly max_budget_cents: number | null;
}

const ANONYMOUS: Principal = Object.freeze({ kind: 'anonymous' });

export interface Authenticator {
  /**
   * The caller's principal, or undefined when the credential is refused. `req` (method and URL as
   * received) is passed on inference routes, where a signed request can be verified over its body.
   */
  authenticate(
    headers: IncomingHttpHeaders,
    query: string,
    req?: { readonly method?: string | undefined; readonly url?: string | undefined },
  ): Principal | undefined;
}

/** The authenticator for the configured client auth mode, built once at startup. */
export function authenticatorFor(auth: AuthConfig): Authenticator {
  switch (auth.mode) {
    case 'none':
      return { authenticate: () => ANONYMOUS };
    case 'passthrough':
      return {
        authenticate: (headers, query) => ({
          kind: 'passthrough',
          credential: extractCredential(headers, query),
        }),
      };
    case 'token': {
      const tokens = new TokenSet(auth.clientTokens);
      // One frozen principal per token, its scope a digest: the same token has the same scope in
      // every worker and after a reload that reorders the list, and the token itself is not kept.
      const principals: readonly Principal[] = auth.clientTokens.map((token) =>
        Object.freeze({ kind: 'client_token', scope: `token:${digest(token)}` }),
      );
      return {
        authenticate: (headers, query) => principals[tokens.match(extractCredential(headers, query))],
      };
    }
    default: {
      const never: never = auth.mode;
      throw new Error(`unknown auth mode ${String(never)}`);
    }
  }
}

/** The credential to send upstream instead of the configured key; `false` to use the key. */
export function upstreamCredential(principal: Principal): string | undefined | false {
  return principal.kind === 'passthrough' ? principal.credential : false;
}

function digest(secret: string): string {
  return crypto.createHash('sha256').update(secret).digest('hex');
}

/**
 * Who owns what the gateway remembers for a caller (signed reasoning, lifecycle/reasoning-memory.ts):
 * one scope per client token, virtual key or passthrough credential; every caller of an
 * unauthenticated listener shares one. Undefined for a signed request not yet confirmed. Scopes
 * are digests or key ids, never a credential, and are never logged.
 */
export function principalScope(principal: Principal | undefined): string | undefined {
  switch (principal?.kind) {
    case undefined:
    case 'signed':
      return undefined;
    case 'anonymous':
      return 'anonymous';
    case 'client_token':
      return principal.scope;
    case 'virtual_key':
      return `key:${principal.key.id}`;
    case 'passthrough':
      return principal.credential === undefined
        ? 'passthrough'
        : `passthrough:${digest(principal.credential)}`;
    default: {
      const never: never = principal;
      throw new Error(`unknown principal ${String(never)}`);
    }
  }
}

// Who is calling: the authenticate stage turns a request's credential into a principal, or refuses
// it (G-SEC-1…5). Later stages read the principal, never the raw credential check.

import type { IncomingHttpHeaders } from 'node:http';
import type { AuthConfig } from '../config/types.ts';
import { extractCredential, TokenSet } from './credentials.ts';

export type Principal =
  /** `auth.mode: none`: anyone who can reach the listener. */
  | { readonly kind: 'anonymous' }
  /** A listed client token (`auth.mode: token`). */
  | { readonly kind: 'client_token' }
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
}

const ANONYMOUS: Principal = Object.freeze({ kind: 'anonymous' });
const CLIENT_TOKEN: Principal = Object.freeze({ kind: 'client_token' });

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
      return {
        authenticate: (headers, query) =>
          tokens.check(extractCredential(headers, query)) ? CLIENT_TOKEN : undefined,
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

// Authentication under governance (G-GOV-1…3): the same credential carriers as client tokens, the
// secret hashed and looked up in the in-memory directory; every refusal looks the same.

import { extractCredential } from '../auth/credentials.ts';
import type { Authenticator, Principal } from '../auth/principal.ts';
import type { KeyDirectory } from './directory.ts';
import { hashSecret } from './keys.ts';

export function governedAuthenticator(directory: KeyDirectory): Authenticator {
  return {
    authenticate(headers, query): Principal | undefined {
      const secret = extractCredential(headers, query);
      // Missing or blank: refused before any lookup.
      if (secret === undefined) return undefined;
      const key = directory.byHash(hashSecret(secret));
      return key === undefined ? undefined : { kind: 'virtual_key', key };
    },
  };
}

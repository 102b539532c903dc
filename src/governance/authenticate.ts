// Authentication under governance (G-GOV-1…3): the same credential carriers as client tokens, the
// secret hashed and looked up in the in-memory directory; every refusal looks the same.

import { extractCredential } from '../auth/credentials.ts';
import type { Authenticator, Principal } from '../auth/principal.ts';
import { log } from '../log.ts';
import type { KeyDirectory } from './directory.ts';
import { hashSecret } from './keys.ts';
import { isSigV4, verifySigV4 } from './sigv4.ts';

export function governedAuthenticator(directory: KeyDirectory): Authenticator {
  const secretFor = (accessKeyId: string): string | undefined => directory.aws(accessKeyId)?.secret;
  return {
    authenticate(headers, query, req): Principal | undefined {
      // An AWS SDK signing with an issued key pair (G-GOV-26): verified once the body is read.
      if (req !== undefined && isSigV4(headers.authorization)) {
        return {
          kind: 'signed',
          confirm(body): Principal | undefined {
            const result = verifySigV4(
              { method: req.method ?? 'POST', url: req.url ?? '/', headers, body },
              secretFor,
              Date.now(),
            );
            if (!result.ok) {
              log.debug({ reason: result.reason }, 'SigV4 request refused');
              return undefined;
            }
            const key = directory.aws(result.accessKeyId)?.key;
            return key === undefined ? undefined : { kind: 'virtual_key', key };
          },
        };
      }
      const secret = extractCredential(headers, query);
      // Missing or blank: refused before any lookup.
      if (secret === undefined) return undefined;
      const key = directory.byHash(hashSecret(secret));
      return key === undefined ? undefined : { kind: 'virtual_key', key };
    },
  };
}

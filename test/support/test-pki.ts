// A throwaway PKI for TLS tests: a CA, a server certificate for 127.0.0.1 and a client
// certificate, all signed by the CA (openssl from the machine).

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPki {
  /** Path of a file in the PKI folder: ca.pem, server.pem, server.key, client.pem, client.key. */
  file(name: string): string;
  /** The CA, client certificate and key, as TLS client options take them. */
  readonly client: { readonly ca: Buffer; readonly cert: Buffer; readonly key: Buffer };
}

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { stdio: 'ignore' });
}

export function makePki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'busbar-pki-'));
  const file = (name: string): string => join(dir, name);
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.pem'),
    '-days',
    '2',
    '-subj',
    '/CN=busbar-test-ca',
  );
  writeFileSync(file('san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  for (const who of ['server', 'client']) {
    openssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      file(`${who}.key`),
      '-out',
      file(`${who}.csr`),
      '-subj',
      `/CN=${who}`,
    );
    const ext = who === 'server' ? ['-extfile', file('san.ext')] : [];
    openssl(
      'x509',
      '-req',
      '-in',
      file(`${who}.csr`),
      '-CA',
      file('ca.pem'),
      '-CAkey',
      file('ca.key'),
      '-CAcreateserial',
      '-out',
      file(`${who}.pem`),
      '-days',
      '2',
      ...ext,
    );
  }
  return {
    file,
    client: {
      ca: readFileSync(file('ca.pem')),
      cert: readFileSync(file('client.pem')),
      key: readFileSync(file('client.key')),
    },
  };
}

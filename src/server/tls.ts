// TLS material, loaded once at startup (§8). Every problem is one clean fatal line naming the
// file (G-TLS-4); key bytes never appear in a message.

import type { TlsOptions } from 'node:tls';
import { crypto, fs } from '../builtins.ts';
import type { TlsConfig } from '../config/types.ts';

export class TlsConfigError extends Error {}

function read(kind: string, path: string): string {
  try {
    return fs.readFileSync(path, 'utf8');
  } catch (err) {
    const reason = err instanceof Error && 'code' in err ? String(err.code) : 'unreadable';
    throw new TlsConfigError(`cannot read TLS ${kind} '${path}': ${reason}`);
  }
}

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const KEY_BLOCK =
  /-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----[\s\S]+?-----END (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----/;

export function loadTls(tls: TlsConfig): TlsOptions {
  const certPem = read('cert_file', tls.certFile);
  const certs = certPem.match(CERT_BLOCK) ?? [];
  if (certs.length === 0)
    throw new TlsConfigError(`TLS cert_file '${tls.certFile}' contains no certificates (expected PEM)`);
  const keyPem = read('key_file', tls.keyFile).match(KEY_BLOCK)?.[0];
  if (keyPem === undefined)
    throw new TlsConfigError(`TLS key_file '${tls.keyFile}' contains no private key (expected PEM)`);
  try {
    const leaf = new crypto.X509Certificate(certs[0]!);
    if (!leaf.checkPrivateKey(crypto.createPrivateKey(keyPem)))
      throw new Error('private key does not match the certificate');
  } catch (err) {
    const reason = err instanceof Error ? err.message : 'invalid';
    throw new TlsConfigError(
      `TLS cert/key are not a valid pair (cert_file '${tls.certFile}', key_file '${tls.keyFile}'): ${reason}`,
    );
  }
  const options: TlsOptions = {
    cert: certs.join('\n'),
    key: keyPem,
    minVersion: 'TLSv1.2',
  };
  if (tls.clientCaFile !== undefined) {
    const cas = read('client_ca_file', tls.clientCaFile).match(CERT_BLOCK) ?? [];
    if (cas.length === 0)
      throw new TlsConfigError(`TLS client_ca_file '${tls.clientCaFile}' contains no CA certificates`);
    for (const ca of cas) {
      try {
        new crypto.X509Certificate(ca);
      } catch (err) {
        throw new TlsConfigError(
          `invalid CA certificate in TLS client_ca_file '${tls.clientCaFile}': ${err instanceof Error ? err.message : ''}`,
        );
      }
    }
    Object.assign(options, { ca: cas, requestCert: true, rejectUnauthorized: true });
  }
  return options;
}

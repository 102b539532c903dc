// TLS material checks (G-TLS-4) without binding anything: used by `--validate` and reusable by the
// listener, which loads the same files once at startup.

import type { KeyObject, X509Certificate } from 'node:crypto';
import { crypto, fs } from '../builtins.ts';
import { describeFsError } from './errors.ts';
import type { TlsConfig } from './types.ts';

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

function pemBlocks(text: string, label: (l: string) => boolean): string[] {
  return [...text.matchAll(PEM_BLOCK)].filter((m) => label(m[1]!)).map((m) => m[0]);
}

function read(kind: string, path: string): string {
  try {
    return fs.readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read TLS ${kind} '${path}': ${describeFsError(err)}`);
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The G-TLS-4 message (without the `TLS configuration error: ` prefix), or undefined when all is well. */
export function checkTlsMaterial(tls: TlsConfig): string | undefined {
  try {
    const certs = pemBlocks(read('cert_file', tls.certFile), (l) => l === 'CERTIFICATE');
    if (certs.length === 0) return `TLS cert_file '${tls.certFile}' contains no certificates (expected PEM)`;
    let leaf: X509Certificate;
    try {
      leaf = new crypto.X509Certificate(certs[0]!);
    } catch (err) {
      return `TLS cert_file '${tls.certFile}' contains no certificates that parse: ${errorText(err)}`;
    }
    const keys = pemBlocks(read('key_file', tls.keyFile), (l) => l.endsWith('PRIVATE KEY'));
    let key: KeyObject;
    try {
      if (keys.length === 0) throw new Error('no PEM private key block');
      key = crypto.createPrivateKey(keys[0]!);
    } catch {
      // Never echo key parser output: it could quote key bytes.
      return `TLS key_file '${tls.keyFile}' contains no private key (expected PEM PKCS#8, PKCS#1 or SEC1)`;
    }
    if (!leaf.checkPrivateKey(key)) {
      return `TLS cert/key are not a valid pair (cert_file '${tls.certFile}', key_file '${tls.keyFile}'): the private key does not match the certificate`;
    }
    if (tls.clientCaFile !== undefined) {
      const cas = pemBlocks(read('client_ca_file', tls.clientCaFile), (l) => l === 'CERTIFICATE');
      if (cas.length === 0) return `TLS client_ca_file '${tls.clientCaFile}' contains no CA certificates`;
      for (const ca of cas) {
        try {
          new crypto.X509Certificate(ca);
        } catch (err) {
          return `invalid CA certificate in TLS client_ca_file '${tls.clientCaFile}': ${errorText(err)}`;
        }
      }
    }
    return undefined;
  } catch (err) {
    return errorText(err);
  }
}

// AWS SigV4 signing for Bedrock upstreams (service `bedrock`, region from the host), using the
// AWS SDK's own signer so the canonicalisation is exactly AWS's. Loaded only when a Bedrock lane
// has a key (the edge's `loadSigner`).

import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { RequestSigner } from '../edge.ts';

const REGION_FROM_HOST = /^bedrock-runtime(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com$/;

export function regionFromHost(hostname: string): string {
  return REGION_FROM_HOST.exec(hostname)?.[1] ?? 'us-east-1';
}

/** Parses `ACCESS_KEY_ID:SECRET[:SESSION_TOKEN]`; undefined when malformed. */
export function parseAwsKey(
  value: string,
): { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined {
  const [accessKeyId, secretAccessKey, ...rest] = value.split(':');
  if (!accessKeyId || !secretAccessKey) return undefined;
  const sessionToken = rest.join(':');
  return sessionToken ? { accessKeyId, secretAccessKey, sessionToken } : { accessKeyId, secretAccessKey };
}

export class BedrockSigner implements RequestSigner {
  readonly #signer: SignatureV4;
  readonly #hostname: string;
  readonly #host: string;

  constructor(awsKey: string, url: URL) {
    const credentials = parseAwsKey(awsKey) ?? { accessKeyId: '', secretAccessKey: '' };
    this.#hostname = url.hostname;
    this.#host = url.host;
    this.#signer = new SignatureV4({
      credentials,
      region: regionFromHost(url.hostname),
      service: 'bedrock',
      sha256: Hash.bind(null, 'sha256'),
    });
  }

  /** Signed headers for a POST of `body` to `path` (path may carry a query). */
  async sign(
    path: string,
    headers: Record<string, string>,
    body: Uint8Array,
  ): Promise<Record<string, string>> {
    const q = path.indexOf('?');
    const query = q < 0 ? undefined : Object.fromEntries(new URLSearchParams(path.slice(q + 1)));
    const signed = await this.#signer.sign({
      method: 'POST',
      protocol: 'https:',
      hostname: this.#hostname,
      path: q < 0 ? path : path.slice(0, q),
      query,
      headers: { ...headers, host: this.#host },
      body,
    });
    return signed.headers;
  }
}

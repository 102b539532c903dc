// Inbound AWS SigV4 (G-GOV-26, G-GOV-27): an AWS SDK signing with a key pair Busbar issued is
// verified by recomputing its signature. The official Bedrock runtime client signs
// `x-amz-content-sha256` (checked against it, and required here) and URI-encodes the already
// encoded wire path once more, as SigV4 does for every service but S3. Every failure is the same
// to the caller; the reason is for the debug log only.

import { crypto } from '../builtins.ts';

export interface SignedRequest {
  readonly method: string;
  /** Path and query as received, still percent-encoded. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Uint8Array;
}

export type SigV4Result =
  | { readonly ok: true; readonly accessKeyId: string }
  | { readonly ok: false; readonly reason: string };

const ALGORITHM = 'AWS4-HMAC-SHA256';
const SKEW_MS = 300_000;
/** Unknown access key ids are verified against this, so they cost the same work (no enumeration oracle). */
const DUMMY_SECRET = 'busbar-sigv4-dummy-secret-0000000000000000';

export function isSigV4(authorization: string | string[] | undefined): boolean {
  return typeof authorization === 'string' && authorization.trimStart().startsWith(`${ALGORITHM} `);
}

/** RFC 3986 encoding as SigV4 wants it: encodeURIComponent plus ! ' ( ) *. */
function escapeUri(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function canonicalPath(path: string): string {
  const segments: string[] = [];
  for (const s of path.split('/')) {
    if (s === '' || s === '.') continue;
    if (s === '..') segments.pop();
    else segments.push(s);
  }
  const trailing = segments.length > 0 && path.endsWith('/') ? '/' : '';
  return escapeUri(`/${segments.join('/')}${trailing}`).replace(/%2F/g, '/');
}

function canonicalQuery(query: string): string {
  if (query === '') return '';
  const pairs = query
    .split('&')
    .filter((p) => p !== '')
    .map((p) => {
      const eq = p.indexOf('=');
      const key = eq < 0 ? p : p.slice(0, eq);
      const value = eq < 0 ? '' : p.slice(eq + 1);
      return [escapeUri(decode(key)), escapeUri(decode(value))] as const;
    });
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

function header(headers: SignedRequest['headers'], name: string): string | undefined {
  const value = name === 'host' ? (headers.host ?? headers[':authority']) : headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

function hmac(key: string | Buffer, data: string): Buffer {
  return crypto.createHmac('sha256', key).update(data).digest();
}

/** Equal-length digests of both sides, compared in constant time. */
function same(a: string, b: string): boolean {
  return crypto.timingSafeEqual(
    crypto.createHash('sha256').update(a).digest(),
    crypto.createHash('sha256').update(b).digest(),
  );
}

interface Parsed {
  readonly accessKeyId: string;
  readonly date: string;
  readonly scope: string;
  readonly region: string;
  readonly service: string;
  readonly signedHeaders: string;
  readonly signature: string;
}

function parseAuthorization(value: string): Parsed | string {
  const rest = value.trim().slice(ALGORITHM.length).trim();
  const fields = new Map<string, string>();
  for (const part of rest.split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credential = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (credential === undefined || !signedHeaders || !signature) return 'malformed Authorization';
  const parts = credential.split('/');
  if (parts.length !== 5 || parts.some((p) => p === '') || parts[4] !== 'aws4_request')
    return 'malformed Credential';
  const [accessKeyId, date, region, service] = parts as [string, string, string, string];
  return { accessKeyId, date, scope: parts.slice(1).join('/'), region, service, signedHeaders, signature };
}

/** `secretFor(akid)`: the secret of a known, enabled credential, else undefined. */
export function verifySigV4(
  req: SignedRequest,
  secretFor: (accessKeyId: string) => string | undefined,
  nowMs: number,
): SigV4Result {
  const authorization = header(req.headers, 'authorization');
  if (authorization === undefined || !isSigV4(authorization)) return { ok: false, reason: 'not SigV4' };
  const p = parseAuthorization(authorization);
  if (typeof p === 'string') return { ok: false, reason: p };
  const signed = p.signedHeaders.split(';');
  if (!signed.includes('host')) return { ok: false, reason: 'host is not signed' };
  if (!signed.includes('x-amz-content-sha256') || !signed.includes('x-amz-date')) {
    return { ok: false, reason: 'x-amz-content-sha256 and x-amz-date must be signed' };
  }
  const payloadHash = header(req.headers, 'x-amz-content-sha256') ?? '';
  const bodyHash = crypto.createHash('sha256').update(req.body).digest('hex');
  if (!same(payloadHash, bodyHash)) return { ok: false, reason: 'body does not match x-amz-content-sha256' };
  const amzDate = header(req.headers, 'x-amz-date') ?? '';
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (m === null || `${m[1]}${m[2]}${m[3]}` !== p.date) return { ok: false, reason: 'bad x-amz-date' };
  const signedAt = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  if (Math.abs(nowMs - signedAt) > SKEW_MS) return { ok: false, reason: 'x-amz-date outside ±300 s' };

  const q = req.url.indexOf('?');
  const path = q < 0 ? req.url : req.url.slice(0, q);
  let headerBlock = '';
  for (const name of signed) {
    const value = header(req.headers, name);
    if (value === undefined) return { ok: false, reason: `signed header ${name} is missing` };
    headerBlock += `${name}:${value.trim().replace(/\s+/g, ' ')}\n`;
  }
  const canonical = [
    req.method,
    canonicalPath(path),
    canonicalQuery(q < 0 ? '' : req.url.slice(q + 1)),
    headerBlock,
    p.signedHeaders,
    payloadHash,
  ].join('\n');
  const toSign = [
    ALGORITHM,
    amzDate,
    p.scope,
    crypto.createHash('sha256').update(canonical).digest('hex'),
  ].join('\n');
  const secret = secretFor(p.accessKeyId);
  // The same work whether or not the id is known.
  const key = hmac(
    hmac(hmac(hmac(`AWS4${secret ?? DUMMY_SECRET}`, p.date), p.region), p.service),
    'aws4_request',
  );
  const expected = hmac(key, toSign).toString('hex');
  const matches = same(expected, p.signature);
  if (secret === undefined) return { ok: false, reason: 'unknown or disabled access key id' };
  return matches ? { ok: true, accessKeyId: p.accessKeyId } : { ok: false, reason: 'signature mismatch' };
}

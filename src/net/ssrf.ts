// Startup URL guards: the provider `base_url` metadata denylist (G-SEC-30…35) and the sink/sidecar
// internal-address guard (G-SEC-40…42). Host extraction mirrors what the HTTP client connects to.

/** The built-in cloud-metadata denylist (G-SEC-32); `169.254.0.0/16` is the only range. */
export const BUILTIN_METADATA_HOSTS: readonly string[] = Object.freeze([
  '169.254.0.0/16',
  '100.100.100.200',
  '168.63.129.16',
  '192.0.0.192',
  'fd00:ec2::254',
  'metadata.google.internal',
  'metadata.internal',
  'metadata.tencentyun.com',
  'metadata.platformequinix.com',
  'instance-data',
  'instance-data.ec2.internal',
]);

export type HostAddress =
  | { readonly kind: 'ipv4'; readonly value: number }
  | { readonly kind: 'ipv6'; readonly bytes: Uint8Array }
  | { readonly kind: 'name'; readonly name: string };

export interface ExtractedHost {
  readonly scheme: 'http' | 'https';
  /** Lower-cased, percent-decoded, brackets and one trailing `.` removed. */
  readonly host: string;
}

export type HostExtraction =
  | ({ readonly ok: true } & ExtractedHost)
  | { readonly ok: false; readonly reason: 'scheme' | 'no-host' };

const SCHEME = /^([a-zA-Z][a-zA-Z0-9+.-]*):/;

/** G-SEC-31 host extraction: scheme, `\`→`/`, authority end, userinfo, port, %-decoding, trailing dot. */
export function extractHost(url: string): HostExtraction {
  const trimmed = url.trim();
  const m = SCHEME.exec(trimmed);
  const scheme = m?.[1]?.toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') return { ok: false, reason: 'scheme' };
  const rest = trimmed.slice(m![0].length).replaceAll('\\', '/').replace(/^\/+/, '');
  const end = rest.search(/[/?#]/);
  let authority = end === -1 ? rest : rest.slice(0, end);
  const at = authority.lastIndexOf('@');
  if (at !== -1) authority = authority.slice(at + 1);
  let host: string;
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    host = close === -1 ? authority.slice(1) : authority.slice(1, close);
  } else {
    const colon = authority.indexOf(':');
    host = colon === -1 ? authority : authority.slice(0, colon);
  }
  host = normalizeHostText(percentDecode(host));
  if (host === '') return { ok: false, reason: 'no-host' };
  return { ok: true, scheme, host };
}

/** Every host the URL could reach: our extraction and, when it parses, the WHATWG URL host the upstream pool connects to. */
function candidateHosts(url: string, extracted: ExtractedHost): string[] {
  const hosts = [extracted.host];
  try {
    const whatwg = normalizeHostText(new URL(url.trim()).hostname);
    if (whatwg !== '' && whatwg !== extracted.host) hosts.push(whatwg);
  } catch {
    // Unparseable for WHATWG: the client cannot connect anywhere; our extraction alone decides.
  }
  return hosts;
}

function normalizeHostText(host: string): string {
  let h = host.toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h;
}

function percentDecode(text: string): string {
  if (!text.includes('%')) return text;
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x25 && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(Number.parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      for (const b of Buffer.from(text[i]!, 'utf8')) bytes.push(b);
    }
  }
  return new TextDecoder().decode(Uint8Array.from(bytes));
}

// ---------------------------------------------------------------------------------------------
// Address parsing

/** inet_aton-style IPv4: 1–4 parts, each decimal, `0x` hex or leading-`0` octal; the last part fills. */
export function parseIPv4Loose(host: string): number | undefined {
  const parts = host.split('.');
  if (parts.length < 1 || parts.length > 4) return undefined;
  const values: number[] = [];
  for (const part of parts) {
    let v: number;
    if (/^0x[0-9a-f]*$/i.test(part)) v = part.length === 2 ? 0 : Number.parseInt(part.slice(2), 16);
    else if (/^0[0-7]*$/.test(part)) v = part.length === 1 ? 0 : Number.parseInt(part.slice(1), 8);
    else if (/^[1-9][0-9]*$/.test(part)) v = Number(part);
    else return undefined;
    if (!Number.isFinite(v)) return undefined;
    values.push(v);
  }
  const last = values.pop()!;
  let result = 0;
  for (const v of values) {
    if (v > 255) return undefined;
    result = result * 256 + v;
  }
  const remaining = 4 - values.length;
  if (last >= 256 ** remaining) return undefined;
  return result * 256 ** remaining + last;
}

/** RFC 4291 text form (with `::`, an embedded dotted IPv4 tail, an optional `%zone`) → 16 bytes. */
export function parseIPv6(text: string): Uint8Array | undefined {
  let host = text;
  const zone = host.indexOf('%');
  if (zone !== -1) host = host.slice(0, zone);
  if (!host.includes(':')) return undefined;
  const halves = host.split('::');
  if (halves.length > 2) return undefined;
  const parseGroups = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    const groups = s.split(':');
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i]!;
      if (i === groups.length - 1 && g.includes('.')) {
        const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(g);
        if (!m) return undefined;
        const o = m.slice(1).map(Number);
        if (o.some((x) => x > 255)) return undefined;
        out.push((o[0]! << 8) | o[1]!, (o[2]! << 8) | o[3]!);
      } else if (/^[0-9a-f]{1,4}$/i.test(g)) {
        out.push(Number.parseInt(g, 16));
      } else {
        return undefined;
      }
    }
    return out;
  };
  const head = parseGroups(halves[0]!);
  const tail = halves.length === 2 ? parseGroups(halves[1]!) : [];
  if (!head || !tail) return undefined;
  let groups: number[];
  if (halves.length === 2) {
    const fill = 8 - head.length - tail.length;
    if (fill < 1) return undefined;
    groups = [...head, ...new Array<number>(fill).fill(0), ...tail];
  } else {
    groups = head;
  }
  if (groups.length !== 8) return undefined;
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    bytes[i * 2] = g >> 8;
    bytes[i * 2 + 1] = g & 0xff;
  });
  return bytes;
}

/** Classifies a normalised host; IPv4-mapped (`::ffff:a.b.c.d`) and -compatible (`::a.b.c.d`) IPv6 become IPv4. */
export function parseHostAddress(host: string): HostAddress {
  const h = normalizeHostText(host);
  const v4 = parseIPv4Loose(h);
  if (v4 !== undefined) return { kind: 'ipv4', value: v4 };
  const v6 = parseIPv6(h);
  if (v6 !== undefined) {
    const embedded = embeddedIPv4(v6);
    return embedded === undefined ? { kind: 'ipv6', bytes: v6 } : { kind: 'ipv4', value: embedded };
  }
  return { kind: 'name', name: h };
}

function embeddedIPv4(b: Uint8Array): number | undefined {
  const zeroTo = (n: number): boolean => b.subarray(0, n).every((x) => x === 0);
  const tail = ((b[12]! << 24) >>> 0) + (b[13]! << 16) + (b[14]! << 8) + b[15]!;
  if (zeroTo(10) && b[10] === 0xff && b[11] === 0xff) return tail; // ::ffff:a.b.c.d (mapped)
  // ::a.b.c.d (compatible); `::` and `::1` keep their IPv6 meaning.
  if (zeroTo(12) && tail > 1) return tail;
  return undefined;
}

function ipv4(a: number, b: number, c: number, d: number): number {
  return ((a << 24) >>> 0) + (b << 16) + (c << 8) + d;
}

function inV4(value: number, base: number, prefix: number): boolean {
  const size = 2 ** (32 - prefix);
  return value >= base && value < base + size;
}

function inV6(bytes: Uint8Array, prefix: readonly number[], bits: number): boolean {
  for (let i = 0; i < bits; i++) {
    const byte = i >> 3;
    const mask = 0x80 >> (i & 7);
    if ((bytes[byte]! & mask) !== ((prefix[byte] ?? 0) & mask)) return false;
  }
  return true;
}

const V6_LOOPBACK = parseIPv6('::1')!;
const V6_UNSPECIFIED = parseIPv6('::')!;
const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.every((x, i) => x === b[i]);

function formatIPv4(v: number): string {
  return [v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff].join('.');
}

/** A key equal for every spelling of the same address (`0xa9fea9fe` ≡ `169.254.169.254`). */
export function canonicalHostKey(host: string): string {
  const a = parseHostAddress(host);
  switch (a.kind) {
    case 'ipv4':
      return formatIPv4(a.value);
    case 'ipv6': {
      const groups: string[] = [];
      for (let i = 0; i < 16; i += 2) groups.push(((a.bytes[i]! << 8) | a.bytes[i + 1]!).toString(16));
      return groups.join(':');
    }
    case 'name':
      return a.name;
    default: {
      const never: never = a;
      return String(never);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Classification

function isLocalhostName(name: string): boolean {
  return name === 'localhost' || name.endsWith('.localhost');
}

/** Loopback only: 127/8, `::1`, their mapped forms, `localhost`, `*.localhost`. */
export function isLoopbackHost(host: string): boolean {
  const a = parseHostAddress(host);
  if (a.kind === 'name') return isLocalhostName(a.name);
  if (a.kind === 'ipv4') return inV4(a.value, ipv4(127, 0, 0, 0), 8);
  return sameBytes(a.bytes, V6_LOOPBACK);
}

/** G-SEC-31: hosts a provider may reach over plain `http` (local model servers). */
export function isPrivateOrLoopbackHost(host: string): boolean {
  const a = parseHostAddress(host);
  if (a.kind === 'name') return isLocalhostName(a.name);
  if (a.kind === 'ipv4') {
    const v = a.value;
    return (
      inV4(v, ipv4(127, 0, 0, 0), 8) ||
      inV4(v, ipv4(10, 0, 0, 0), 8) ||
      inV4(v, ipv4(172, 16, 0, 0), 12) ||
      inV4(v, ipv4(192, 168, 0, 0), 16) ||
      inV4(v, ipv4(169, 254, 0, 0), 16) ||
      inV4(v, ipv4(100, 64, 0, 0), 10) ||
      v === 0
    );
  }
  return (
    sameBytes(a.bytes, V6_LOOPBACK) ||
    sameBytes(a.bytes, V6_UNSPECIFIED) ||
    inV6(a.bytes, [0xfc], 7) ||
    inV6(a.bytes, [0xfe, 0x80], 10)
  );
}

/** G-SEC-41 internal set for sink URLs (loopback included; callers decide whether loopback is allowed). */
export function isInternalSinkHost(host: string): boolean {
  const a = parseHostAddress(host);
  if (a.kind === 'name') {
    return isLocalhostName(a.name) || a.name === 'metadata.google.internal' || a.name === 'metadata.internal';
  }
  if (a.kind === 'ipv4') return isPrivateOrLoopbackHost(formatIPv4(a.value)) || a.value === 0xffffffff;
  return isPrivateOrLoopbackHost(host);
}

// ---------------------------------------------------------------------------------------------
// Metadata denylist (G-SEC-32…34)

export interface MetadataPolicy {
  /** `security.blocked_metadata_hosts`, appended to the built-ins. */
  readonly blocked: readonly string[];
  /** `security.allow_metadata_hosts` ∪ the provider's `allow_metadata_hosts`. */
  readonly allow: readonly string[];
  readonly allowAll: boolean;
}

const BUILTIN_EXACT = new Set(BUILTIN_METADATA_HOSTS.filter((h) => !h.includes('/')).map(canonicalHostKey));
const LINK_LOCAL_V4 = ipv4(169, 254, 0, 0);

function onBuiltinDenylist(host: string): boolean {
  const a = parseHostAddress(host);
  if (a.kind === 'ipv4' && inV4(a.value, LINK_LOCAL_V4, 16)) return true;
  if (BUILTIN_EXACT.has(canonicalHostKey(host))) return true;
  // NAT64 (64:ff9b::/96) reaches the embedded IPv4 through a translator: check it too.
  if (
    a.kind === 'ipv6' &&
    inV6(a.bytes, [0, 0x64, 0xff, 0x9b], 32) &&
    a.bytes.subarray(4, 12).every((x) => !x)
  ) {
    const v = ((a.bytes[12]! << 24) >>> 0) + (a.bytes[13]! << 16) + (a.bytes[14]! << 8) + a.bytes[15]!;
    return onBuiltinDenylist(formatIPv4(v));
  }
  return false;
}

/** G-SEC-34: blocked iff not allow-all, on (built-in ∪ blocked) and not on the allow lists. */
export function isMetadataHostBlocked(host: string, policy: MetadataPolicy): boolean {
  if (policy.allowAll) return false;
  const key = canonicalHostKey(host);
  const listed = onBuiltinDenylist(host) || policy.blocked.some((entry) => canonicalHostKey(entry) === key);
  if (!listed) return false;
  return !policy.allow.some((entry) => canonicalHostKey(entry) === key);
}

/** Replaces URL userinfo with `***` so credentials never reach a log line (G-SEC-50). */
export function maskUrlUserinfo(url: string): string {
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*:[/\\]*)([^/?#\\]*)(.*)$/s.exec(url);
  if (!m) return url;
  const authority = m[2]!;
  const at = authority.lastIndexOf('@');
  if (at === -1) return url;
  return `${m[1]}***@${authority.slice(at + 1)}${m[3]}`;
}

export type ProviderUrlProblem =
  | { readonly rule: 'scheme'; readonly message: string }
  | { readonly rule: 'metadata'; readonly host: string };

/**
 * G-VAL-17/18: `https` always; `http` only to private/loopback hosts; never a metadata host unless
 * carved out. Every host the URL could reach (ours and WHATWG's) must pass.
 */
export function checkProviderUrl(url: string, policy: MetadataPolicy): ProviderUrlProblem | undefined {
  // The upstream client parses base_url with the WHATWG parser: what it cannot parse is refused
  // here, so --validate and the running gateway agree.
  if (!URL.canParse(url)) return { rule: 'scheme', message: 'is not a valid URL' };
  const extracted = extractHost(url);
  if (!extracted.ok) {
    return extracted.reason === 'scheme'
      ? { rule: 'scheme', message: 'must use https:// (http:// only for private or loopback hosts)' }
      : { rule: 'scheme', message: 'has no host' };
  }
  const hosts = candidateHosts(url, extracted);
  if (extracted.scheme === 'http' && !hosts.every(isPrivateOrLoopbackHost)) {
    return {
      rule: 'scheme',
      message: 'must use https:// (plain http:// is allowed only for private or loopback hosts)',
    };
  }
  const blocked = hosts.find((h) => isMetadataHostBlocked(h, policy));
  if (blocked !== undefined) return { rule: 'metadata', host: blocked };
  return undefined;
}

export interface SinkUrlOptions {
  /**
   * true: routing webhook / OTLP (G-SEC-40, G-OBS-31) — loopback allowed, `http` only for loopback.
   * false: request-log webhook (G-OBS-41) — the whole internal set is blocked, `https` only.
   */
  readonly allowLoopbackHttp: boolean;
}

/** G-SEC-40…42 sink/sidecar URL guard; returns the reason for rejection, or undefined when acceptable. */
export function checkSinkUrl(url: string, opts: SinkUrlOptions): string | undefined {
  const extracted = extractHost(url);
  if (!extracted.ok) {
    return extracted.reason === 'scheme' ? 'scheme must be http or https' : 'URL has no host';
  }
  if (!URL.canParse(url.trim())) return 'not a valid URL';
  const hosts = candidateHosts(url, extracted);
  if (!opts.allowLoopbackHttp) {
    if (extracted.scheme !== 'https') return 'scheme must be https';
    const internal = hosts.find(isInternalSinkHost);
    if (internal !== undefined) return `host '${internal}' is an internal address`;
    return undefined;
  }
  const internal = hosts.find((h) => isInternalSinkHost(h) && !isLoopbackHost(h));
  if (internal !== undefined) return `host '${internal}' is an internal address`;
  if (extracted.scheme === 'http' && !hosts.every(isLoopbackHost)) {
    return 'plain http is allowed only for a loopback host; use https';
  }
  return undefined;
}

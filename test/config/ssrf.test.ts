// The startup URL guards (G-SEC-31…35, G-SEC-40…42) and the G-TST-17 scenarios, in process.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  BUILTIN_METADATA_HOSTS,
  canonicalHostKey,
  checkProviderUrl,
  checkSinkUrl,
  extractHost,
  isInternalSinkHost,
  isLoopbackHost,
  isMetadataHostBlocked,
  isPrivateOrLoopbackHost,
  type MetadataPolicy,
  maskUrlUserinfo,
  parseHostAddress,
  parseIPv4Loose,
  parseIPv6,
} from '../../src/net/ssrf.ts';

const DEFAULT_POLICY: MetadataPolicy = { blocked: [], allow: [], allowAll: false };
const IMDS = 0xa9fea9fe;

describe('G-SEC-31 host extraction', () => {
  const cases: [string, string][] = [
    ['https://api.openai.com', 'api.openai.com'],
    ['HTTPS://API.Example.COM:443/v1?x#y', 'api.example.com'],
    ['https://169.254.169.254\\x.example.com/', '169.254.169.254'],
    ['https:\\\\169.254.169.254/', '169.254.169.254'],
    ['https://user:pw@evil.com@169.254.169.254/', '169.254.169.254'],
    ['https://169%2e254%2e169%2e254/', '169.254.169.254'],
    ['https://metadata.google.internal./', 'metadata.google.internal'],
    ['https://[::ffff:169.254.169.254]:8443/x', '::ffff:169.254.169.254'],
    ['https://a.example?@169.254.169.254/', 'a.example'],
    ['https://a.example#@169.254.169.254/', 'a.example'],
    ['http://localhost:11434', 'localhost'],
  ];
  for (const [url, host] of cases) {
    test(`G-SEC-31 ${JSON.stringify(url)} → ${host}`, () => {
      assert.deepEqual(extractHost(url), {
        ok: true,
        scheme: url.toLowerCase().startsWith('https') ? 'https' : 'http',
        host,
      });
    });
  }

  test('G-SEC-31 only http and https; a URL needs a host', () => {
    assert.deepEqual(extractHost('ftp://x.example'), { ok: false, reason: 'scheme' });
    assert.deepEqual(extractHost('api.example.com'), { ok: false, reason: 'scheme' });
    assert.deepEqual(extractHost('https://'), { ok: false, reason: 'no-host' });
    assert.deepEqual(extractHost('https://:443/x'), { ok: false, reason: 'no-host' });
    // Like the WHATWG parser the client uses, extra slashes are skipped: the host is `path`.
    assert.deepEqual(extractHost('https:///path'), { ok: true, scheme: 'https', host: 'path' });
    assert.deepEqual(extractHost('https://user@/'), { ok: false, reason: 'no-host' });
  });
});

describe('G-SEC-33 address parsing', () => {
  test('G-SEC-33 inet_aton alternate IPv4 encodings', () => {
    for (const text of [
      '169.254.169.254',
      '2852039166',
      '0xa9fea9fe',
      '0XA9FEA9FE',
      '0251.0376.0251.0376',
      '0xa9.0xfe.0xa9.0xfe',
      '0251.254.0xa9.254',
      '169.254.43518',
      '169.16689662',
      '0xa9.16689662',
    ]) {
      assert.equal(parseIPv4Loose(text), IMDS, text);
    }
    assert.equal(parseIPv4Loose('0'), 0);
    assert.equal(parseIPv4Loose('127.1'), 0x7f000001);
    for (const bad of [
      '256.1.1.1',
      '1.2.3.4.5',
      '08.1.1.1',
      'a.b',
      '1..1',
      '',
      '4294967296',
      '1.2.3.256',
      'api.example.com',
    ]) {
      assert.equal(parseIPv4Loose(bad), undefined, bad);
    }
  });

  test('G-SEC-33 IPv6 forms, zones, embedded IPv4', () => {
    assert.deepEqual([...parseIPv6('::1')!], [...new Array(15).fill(0), 1]);
    assert.equal(parseIPv6('fe80::1%eth0')![0], 0xfe);
    assert.equal(canonicalHostKey('[::ffff:a9fe:a9fe]'), '169.254.169.254');
    assert.equal(canonicalHostKey('::ffff:169.254.169.254'), '169.254.169.254');
    assert.equal(canonicalHostKey('::169.254.169.254'), '169.254.169.254');
    assert.equal(canonicalHostKey('FD00:EC2:0::254'), 'fd00:ec2:0:0:0:0:0:254');
    assert.deepEqual(parseHostAddress('::1'), { kind: 'ipv6', bytes: parseIPv6('::1') });
    for (const bad of ['1:2:3:4:5:6:7:8:9', '1::2::3', ':::', 'g::1', '::1.2.3', '1:2:3:4:5:6:7:8::']) {
      assert.equal(parseIPv6(bad), undefined, bad);
    }
  });
});

describe('G-SEC-31 private or loopback (http allowed)', () => {
  test('G-SEC-31 private, loopback, link-local, CGNAT, unspecified and their spellings', () => {
    for (const h of [
      'localhost',
      'LOCALHOST',
      'ollama.localhost',
      '127.0.0.1',
      '127.255.0.9',
      '0x7f000001',
      '2130706433',
      '10.1.2.3',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.1.1',
      '169.254.1.1',
      '100.64.0.1',
      '100.127.255.255',
      '0.0.0.0',
      '0',
      '::1',
      '::',
      'fc00::1',
      'fdff::1',
      'fe80::1',
      'febf::1',
      '::ffff:10.0.0.1',
      '::ffff:7f00:1',
    ]) {
      assert.equal(isPrivateOrLoopbackHost(h), true, h);
    }
    for (const h of [
      '8.8.8.8',
      '172.32.0.1',
      '172.15.255.255',
      '100.128.0.1',
      '192.169.0.1',
      'api.example.com',
      'localhost.example.com',
      '2001:db8::1',
      'fec0::1',
      '::ffff:8.8.8.8',
    ]) {
      assert.equal(isPrivateOrLoopbackHost(h), false, h);
    }
  });
});

describe('G-SEC-32…34 metadata denylist', () => {
  test('G-SEC-32 the built-in list', () => {
    assert.deepEqual(BUILTIN_METADATA_HOSTS, [
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
    for (const h of [
      '169.254.169.254',
      '169.254.170.2',
      '169.254.0.23',
      '100.100.100.200',
      '168.63.129.16',
      '192.0.0.192',
      'fd00:ec2::254',
      'FD00:EC2:0:0:0:0:0:254',
      'Metadata.Google.Internal',
      'metadata.internal',
      'metadata.tencentyun.com',
      'metadata.platformequinix.com',
      'instance-data',
      'instance-data.ec2.internal',
      '::ffff:100.100.100.200',
      '64:ff9b::a9fe:a9fe',
    ]) {
      assert.equal(isMetadataHostBlocked(h, DEFAULT_POLICY), true, h);
    }
    for (const h of [
      '127.0.0.1',
      '10.0.0.1',
      '100.64.0.1',
      'api.openai.com',
      'google.internal',
      'x.metadata.internal',
    ]) {
      assert.equal(isMetadataHostBlocked(h, DEFAULT_POLICY), false, h);
    }
  });

  test('G-SEC-34 allow always wins; an IP entry matches every spelling; lists are case-insensitive', () => {
    assert.equal(
      isMetadataHostBlocked('0xa9fea9fe', { ...DEFAULT_POLICY, allow: ['169.254.169.254'] }),
      false,
    );
    assert.equal(
      isMetadataHostBlocked('169.254.169.254', { ...DEFAULT_POLICY, allow: ['2852039166'] }),
      false,
    );
    assert.equal(
      isMetadataHostBlocked('169.254.169.253', { ...DEFAULT_POLICY, allow: ['169.254.169.254'] }),
      true,
    );
    assert.equal(
      isMetadataHostBlocked('metadata.google.internal', {
        ...DEFAULT_POLICY,
        allow: ['METADATA.google.internal.'],
      }),
      false,
    );
    assert.equal(isMetadataHostBlocked('vault.corp', { ...DEFAULT_POLICY, blocked: ['Vault.Corp.'] }), true);
    assert.equal(isMetadataHostBlocked('10.0.0.5', { ...DEFAULT_POLICY, blocked: ['0xa000005'] }), true);
    assert.equal(
      isMetadataHostBlocked('vault.corp', {
        blocked: ['vault.corp'],
        allow: ['vault.corp'],
        allowAll: false,
      }),
      false,
    );
    assert.equal(isMetadataHostBlocked('169.254.169.254', { ...DEFAULT_POLICY, allowAll: true }), false);
  });
});

describe('G-TST-17 provider base_url guard', () => {
  for (const url of [
    'https://[::ffff:169.254.169.254]/',
    'https://0xa9fea9fe/',
    'https://metadata.google.internal./',
    'https://169.254.169.254\\x.example.com/',
    'https://2852039166/',
    'https://[::169.254.169.254]/',
    'https://169%2e254%2e169%2e254/',
    'https://u:p@api.example.com@169.254.169.254/',
    'http://169.254.169.254/latest/meta-data',
    'https://[fd00:ec2::254]/',
  ]) {
    test(`G-TST-17 ${JSON.stringify(url)} is fatal (G-VAL-18)`, () => {
      const problem = checkProviderUrl(url, DEFAULT_POLICY);
      assert.equal(problem?.rule, 'metadata', JSON.stringify(problem));
    });
  }

  test('G-TST-17 the same URLs pass when carved out', () => {
    assert.equal(
      checkProviderUrl('https://0xa9fea9fe/', { ...DEFAULT_POLICY, allow: ['169.254.169.254'] }),
      undefined,
    );
    assert.equal(
      checkProviderUrl('https://metadata.google.internal./', { ...DEFAULT_POLICY, allowAll: true }),
      undefined,
    );
  });

  test('G-TST-17 http://127.0.0.1:11434 accepted; http://api.example.com rejected (G-VAL-17)', () => {
    assert.equal(checkProviderUrl('http://127.0.0.1:11434', DEFAULT_POLICY), undefined);
    assert.equal(checkProviderUrl('http://localhost:8000/v1', DEFAULT_POLICY), undefined);
    assert.equal(checkProviderUrl('http://[::1]:8000', DEFAULT_POLICY), undefined);
    assert.equal(checkProviderUrl('https://api.example.com', DEFAULT_POLICY), undefined);
    assert.equal(checkProviderUrl('http://api.example.com', DEFAULT_POLICY)?.rule, 'scheme');
    // The authority trick must not make a public host look local.
    assert.equal(checkProviderUrl('http://127.0.0.1@api.example.com/', DEFAULT_POLICY)?.rule, 'scheme');
    assert.equal(checkProviderUrl('http://api.example.com\\@127.0.0.1/', DEFAULT_POLICY)?.rule, 'scheme');
    assert.equal(checkProviderUrl('gopher://127.0.0.1', DEFAULT_POLICY)?.rule, 'scheme');
  });
});

describe('G-SEC-40…42 sink URL guard', () => {
  const webhook = { allowLoopbackHttp: true };
  const requestLog = { allowLoopbackHttp: false };

  test('G-SEC-40 routing webhook / OTLP: loopback allowed, http only for loopback', () => {
    for (const url of [
      'http://127.0.0.1:9000/route',
      'http://localhost:4318/v1/traces',
      'http://[::1]:4318/',
      'http://sidecar.localhost/',
      'https://router.example.com/pick',
      'HTTPS://Router.Example.com/pick',
    ]) {
      assert.equal(checkSinkUrl(url, webhook), undefined, url);
    }
    assert.equal(
      checkSinkUrl('http://router.example.com/', webhook),
      'plain http is allowed only for a loopback host; use https',
    );
    assert.equal(checkSinkUrl('https://10.0.0.7/', webhook), "host '10.0.0.7' is an internal address");
    assert.equal(
      checkSinkUrl('https://169.254.169.254./', webhook),
      "host '169.254.169.254' is an internal address",
    );
    assert.equal(
      checkSinkUrl('https://metadata.google.internal./', webhook),
      "host 'metadata.google.internal' is an internal address",
    );
    assert.equal(
      checkSinkUrl('https://[::ffff:192.168.0.1]/', webhook),
      "host '::ffff:192.168.0.1' is an internal address",
    );
    assert.equal(
      checkSinkUrl('https://255.255.255.255/', webhook),
      "host '255.255.255.255' is an internal address",
    );
    assert.equal(checkSinkUrl('https://0/', webhook), "host '0' is an internal address");
    assert.equal(checkSinkUrl('ftp://router.example.com/', webhook), 'scheme must be http or https');
    assert.equal(checkSinkUrl('https://', webhook), 'URL has no host');
  });

  test('G-SEC-42 request-log webhook: https only, the whole internal set blocked', () => {
    assert.equal(checkSinkUrl('https://logs.example.com/ingest', requestLog), undefined);
    assert.equal(checkSinkUrl('http://logs.example.com/ingest', requestLog), 'scheme must be https');
    assert.equal(checkSinkUrl('https://127.0.0.1/', requestLog), "host '127.0.0.1' is an internal address");
    assert.equal(checkSinkUrl('https://localhost./', requestLog), "host 'localhost' is an internal address");
    assert.equal(checkSinkUrl('https://0x7f.1/', requestLog), "host '0x7f.1' is an internal address");
  });

  test('G-SEC-41 internal set membership', () => {
    for (const h of [
      '127.0.0.1',
      '::1',
      '169.254.1.1',
      'fe80::1',
      '10.0.0.1',
      '172.20.0.1',
      '192.168.0.1',
      'fc00::1',
      '100.64.0.1',
      '0.0.0.0',
      '::',
      '255.255.255.255',
      'metadata.google.internal',
      'metadata.internal',
      'localhost',
      'a.localhost',
    ]) {
      assert.equal(isInternalSinkHost(h), true, h);
    }
    for (const h of ['8.8.8.8', 'hooks.example.com', '2001:db8::1'])
      assert.equal(isInternalSinkHost(h), false, h);
    assert.equal(isLoopbackHost('::ffff:127.0.0.1'), true);
    assert.equal(isLoopbackHost('10.0.0.1'), false);
  });

  test('G-SEC-50 userinfo is masked in messages', () => {
    assert.equal(maskUrlUserinfo('https://user:secret@host.example/x'), 'https://***@host.example/x');
    assert.equal(maskUrlUserinfo('https://host.example/a@b'), 'https://host.example/a@b');
    assert.equal(maskUrlUserinfo('not a url'), 'not a url');
  });
});

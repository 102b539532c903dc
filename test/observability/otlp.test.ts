// The OTLP protobuf encoder against the published schema: what it writes is decoded with protobufjs
// from the vendored opentelemetry-proto files, and every field must come back as it went in.

import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import protobuf from 'protobufjs';
import {
  encodeAttributes,
  encodeTraces,
  SpanKind,
  type SpanRecord,
  StatusCode,
} from '../../src/observability/otlp.ts';

const PROTOS = path.resolve(import.meta.dirname, '../fixtures/otlp');
const root = new protobuf.Root();
root.resolvePath = (_origin, target) => path.join(PROTOS, target);
root.loadSync('opentelemetry/proto/collector/trace/v1/trace_service.proto', { keepCase: true });
const Request = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');

interface Decoded {
  resource_spans: {
    resource: { attributes: { key: string; value: Record<string, unknown> }[] };
    scope_spans: {
      scope: { name: string; version: string };
      spans: Record<string, unknown>[];
    }[];
  }[];
}

function decode(bytes: Uint8Array): Decoded {
  const message = Request.decode(bytes);
  return Request.toObject(message, {
    longs: String,
    bytes: String,
    defaults: false,
    arrays: true,
  }) as Decoded;
}

const hex = (s: string): Uint8Array => Buffer.from(s, 'hex');
const b64 = (s: string): string => Buffer.from(s, 'hex').toString('base64');

const ROOT: SpanRecord = {
  traceId: hex('0af7651916cd43dd8448eb211c80319c'),
  spanId: hex('b7ad6b7169203331'),
  parentSpanId: hex('00f067aa0ba902b7'),
  traceState: 'congo=t61rcWkgMzE',
  flags: 1,
  remoteParent: true,
  name: 'forward',
  kind: SpanKind.server,
  startUs: 1764925200123456.8,
  endUs: 1764925200987654.5,
  attributes: [
    ['gen_ai.operation.name', 'chat'],
    ['busbar.pool', 'pool ünïcødé ✓'],
    ['gen_ai.usage.input_tokens', 1234],
    ['negative', -42],
    ['large', 2 ** 40],
    ['ratio', 0.25],
    ['busbar.degraded', true],
    ['gen_ai.response.finish_reasons', ['end_turn', 'max_tokens']],
    ['skipped', undefined],
  ],
  encodedAttributes: undefined,
  status: StatusCode.error,
  statusMessage: 'upstream failed',
};

const CHILD: SpanRecord = {
  traceId: ROOT.traceId,
  spanId: hex('1111111111111111'),
  parentSpanId: ROOT.spanId,
  traceState: '',
  flags: 1,
  remoteParent: false,
  name: 'forward_once',
  kind: SpanKind.client,
  startUs: 1764925200200000,
  endUs: 1764925200300000,
  attributes: [['busbar.lane', 'gpt-4o']],
  encodedAttributes: encodeAttributes([
    ['busbar.pool', 'fast'],
    ['http.response.status_code', 200],
  ]),
  status: StatusCode.unset,
  statusMessage: '',
};

describe('OTLP protobuf encoding', () => {
  it('round-trips a server span and its client child through the published schema', () => {
    const bytes = encodeTraces(
      [
        ['service.name', 'busbar'],
        ['service.version', '0.1.0'],
      ],
      { name: 'busbar', version: '0.1.0' },
      [ROOT, CHILD],
    );
    const d = decode(bytes);
    assert.equal(d.resource_spans.length, 1);
    const rs = d.resource_spans[0]!;
    assert.deepEqual(rs.resource.attributes, [
      { key: 'service.name', value: { string_value: 'busbar' } },
      { key: 'service.version', value: { string_value: '0.1.0' } },
    ]);
    assert.equal(rs.scope_spans.length, 1);
    assert.deepEqual(rs.scope_spans[0]!.scope, { name: 'busbar', version: '0.1.0', attributes: [] });
    const [root, child] = rs.scope_spans[0]!.spans as [Record<string, unknown>, Record<string, unknown>];
    assert.deepEqual(root, {
      trace_id: b64('0af7651916cd43dd8448eb211c80319c'),
      span_id: b64('b7ad6b7169203331'),
      trace_state: 'congo=t61rcWkgMzE',
      parent_span_id: b64('00f067aa0ba902b7'),
      flags: 0x301,
      name: 'forward',
      kind: 2,
      start_time_unix_nano: '1764925200123457000',
      end_time_unix_nano: '1764925200987655000',
      attributes: [
        { key: 'gen_ai.operation.name', value: { string_value: 'chat' } },
        { key: 'busbar.pool', value: { string_value: 'pool ünïcødé ✓' } },
        { key: 'gen_ai.usage.input_tokens', value: { int_value: '1234' } },
        { key: 'negative', value: { int_value: '-42' } },
        { key: 'large', value: { int_value: String(2 ** 40) } },
        { key: 'ratio', value: { double_value: 0.25 } },
        { key: 'busbar.degraded', value: { bool_value: true } },
        {
          key: 'gen_ai.response.finish_reasons',
          value: { array_value: { values: [{ string_value: 'end_turn' }, { string_value: 'max_tokens' }] } },
        },
      ],
      status: { message: 'upstream failed', code: 2 },
      events: [],
      links: [],
    });
    assert.deepEqual(child, {
      trace_id: b64('0af7651916cd43dd8448eb211c80319c'),
      span_id: b64('1111111111111111'),
      parent_span_id: b64('b7ad6b7169203331'),
      flags: 0x101,
      name: 'forward_once',
      kind: 3,
      start_time_unix_nano: '1764925200200000000',
      end_time_unix_nano: '1764925200300000000',
      attributes: [
        { key: 'busbar.lane', value: { string_value: 'gpt-4o' } },
        { key: 'busbar.pool', value: { string_value: 'fast' } },
        { key: 'http.response.status_code', value: { int_value: '200' } },
      ],
      events: [],
      links: [],
    });
  });

  it('an empty batch and a root span without parent or state are valid requests', () => {
    const empty = decode(encodeTraces([], { name: 'busbar', version: '' }, []));
    assert.deepEqual(empty.resource_spans[0]!.scope_spans[0]!.scope, { name: 'busbar', attributes: [] });
    assert.deepEqual(empty.resource_spans[0]!.scope_spans[0]!.spans, []);
    const lone = decode(
      encodeTraces([], { name: 'busbar', version: '1' }, [
        {
          ...ROOT,
          parentSpanId: undefined,
          traceState: '',
          remoteParent: false,
          status: 0,
          statusMessage: '',
          attributes: [],
        },
      ]),
    );
    const span = lone.resource_spans[0]!.scope_spans[0]!.spans[0]!;
    assert.equal(span.parent_span_id, undefined);
    assert.equal(span.trace_state, undefined);
    assert.equal(span.status, undefined);
    assert.equal(span.flags, 0x101);
  });

  it('a thousand spans decode, each with its own id and times', () => {
    const spans = Array.from({ length: 1000 }, (_, i) => ({
      ...CHILD,
      spanId: hex(i.toString(16).padStart(16, '0')),
      startUs: 1764925200000000 + i,
      endUs: 1764925200000000 + i * 2,
      attributes: [['i', i] as const],
      encodedAttributes: undefined,
    }));
    const decoded = decode(
      encodeTraces([['service.name', 'busbar']], { name: 'busbar', version: '1' }, spans),
    );
    const out = decoded.resource_spans[0]!.scope_spans[0]!.spans;
    assert.equal(out.length, 1000);
    out.forEach((s, i) => {
      assert.equal(s.span_id, b64(i.toString(16).padStart(16, '0')));
      assert.equal(s.start_time_unix_nano, String((1764925200000000 + i) * 1000));
      assert.deepEqual(s.attributes, [{ key: 'i', value: { int_value: String(i) } }]);
    });
  });
});

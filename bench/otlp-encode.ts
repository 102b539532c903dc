// CPU of the OTLP span encoder alone: µs per span for request-shaped spans (about a dozen
// attributes, the constant ones pre-encoded as the tracer does), in export-sized batches of 512.
// Not a test; a figure for docs/benchmarks.md.
//
//   node bench/otlp-encode.ts

import {
  encodeAttributes,
  encodeTraces,
  SpanKind,
  type SpanRecord,
  StatusCode,
} from '../src/observability/otlp.ts';

const constants = encodeAttributes([
  ['gen_ai.operation.name', 'chat'],
  ['gen_ai.system', 'openai'],
  ['gen_ai.request.model', 'gpt-4o-mini'],
  ['busbar.pool', 'chat-pool'],
  ['busbar.lane', 'gpt-4o-mini'],
  ['busbar.ingress_protocol', 'openai'],
  ['busbar.outcome', 'delivered'],
]);

const span = (i: number): SpanRecord => ({
  traceId: Buffer.alloc(16, i),
  spanId: Buffer.alloc(8, i),
  parentSpanId: i % 2 === 0 ? undefined : Buffer.alloc(8, i - 1),
  traceState: '',
  flags: 1,
  remoteParent: false,
  name: i % 2 === 0 ? 'forward' : 'forward_once',
  kind: i % 2 === 0 ? SpanKind.server : SpanKind.client,
  startUs: 1764925200000000 + i,
  endUs: 1764925200001000 + i,
  attributes: [
    ['gen_ai.response.model', 'gpt-4o-mini-2024-07-18'],
    ['gen_ai.usage.input_tokens', 1234],
    ['gen_ai.usage.output_tokens', 321],
    ['gen_ai.response.finish_reasons', ['end_turn']],
    ['busbar.request_id', '0f8fad5b-d9cb-469f-a165-70867728950e'],
    ['http.response.status_code', 200],
  ],
  encodedAttributes: constants,
  status: StatusCode.unset,
  statusMessage: '',
});

const batch = Array.from({ length: 512 }, (_, i) => span(i));
const resource = [['service.name', 'busbar'] as const];
for (let round = 0; round < 5; round++) {
  const n = 200;
  const started = process.cpuUsage();
  for (let i = 0; i < n; i++) encodeTraces(resource, { name: 'busbar', version: '0.1.0' }, batch);
  const used = process.cpuUsage(started);
  console.log(`round ${round}: ${((used.user + used.system) / (n * batch.length)).toFixed(2)} µs per span`);
}

// CPU of the tracer's finish listener alone: µs per request (a `forward` span and one
// `forward_once` span, as a same-protocol request served at the first attempt), batches exported
// to a sink that answers at once. Not a test; a figure for docs/benchmarks.md, next to the
// gateway's CPU per request from `node bench/cpu-ab.ts`.
//
//   node bench/tracing-record.ts

import type { RequestContext } from '../src/lifecycle/context.ts';
import type { SinkClient } from '../src/observability/sink-client.ts';
import { Tracing } from '../src/observability/tracing.ts';
import type { RoutingTable } from '../src/routing/table.ts';

const lane = {
  name: 'gpt-4o-mini',
  upstream: { protocol: 'openai', edge: { genAiProvider: 'openai' } },
};
let exported = 0;
const client = {
  post: async (_url: URL, body: Uint8Array) => {
    exported += body.length;
    return 200;
  },
} as unknown as SinkClient;
const tracing = new Tracing({
  url: new URL('http://127.0.0.1:4318/v1/traces'),
  client,
  authorization: undefined,
  version: '0.0.0',
  onDrop: () => {},
  table: { resolve: () => ({ kind: 'target' }) } as unknown as RoutingTable,
  env: {},
});

const context = (i: number): RequestContext => {
  const startedAt = performance.now();
  return {
    req: { headers: {} },
    route: { adhoc: false, pathName: undefined },
    res: { headersSent: true, statusCode: 200 },
    ingress: 'openai',
    name: 'chat-pool',
    target: { name: 'chat-pool' },
    startedAt,
    endedAt: startedAt + 12.5,
    principal: undefined,
    clientRequestId: undefined,
    usage: { inputTokens: 1200 + (i % 50), outputTokens: 300 + (i % 7) },
    answer: {
      // As the usage tap reads it: a string out of JSON.parse of the upstream's bytes.
      model: (
        JSON.parse(Buffer.from(`{"model":"gpt-4o-mini-2024-07-18","n":${i}}`).toString()) as { model: string }
      ).model,
      stopReason: 'end_turn',
    },
    hops: [
      {
        lane,
        pool: 'chat-pool',
        degraded: false,
        startedAt: startedAt + 0.2,
        respondedAt: startedAt + 10,
        result: 'ok',
        status: 200,
        failure: undefined,
        failover: undefined,
      },
    ],
  } as unknown as RequestContext;
};

const contexts = Array.from({ length: 1024 }, (_, i) => context(i));
const run = (n: number) => {
  for (let i = 0; i < n; i++) tracing.record(contexts[i % contexts.length]!, 'delivered');
};
// Every batch is exported between rounds, so the queue never fills.
const round = async (n: number) => {
  run(n);
  await tracing.flush();
};
for (let i = 0; i < 20; i++) await round(2000);
const samples: number[] = [];
for (let i = 0; i < 30; i++) {
  const before = process.cpuUsage();
  await round(2000);
  const used = process.cpuUsage(before);
  samples.push((used.user + used.system) / 2000);
}
samples.sort((a, b) => a - b);
console.log(
  `tracing.record: ${samples[samples.length >> 1]!.toFixed(2)} µs CPU per request (median of 30 rounds of 2000; min ${samples[0]!.toFixed(2)}), ${(exported / 62000 / 2).toFixed(0)} bytes per span`,
);

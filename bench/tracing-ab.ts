// Tracing's CPU per request measured inside the same processes (issue 12). Two identical Busbar
// processes differ by several percent for their whole life (bench/cpu-ab.ts), more than tracing
// costs, so this compares each traced process with itself: rounds of sampled requests (no
// `traceparent`: the gateway starts a trace and exports its spans) alternate with rounds of
// unsampled ones (a `traceparent` with the sampled flag off: parent-based sampling records nothing).
// Each round's CPU window runs on past the requests until the export timer has fired, so a
// batch's encoding and its POST count against the round whose requests made it.
//
//   node bench/tracing-ab.ts [--instances 3] [--rounds 20] [--per-round 1000] [--entry other/bin/busbar.js]

import { parseArgs } from 'node:util';
import { startCollector } from './lib/collector.ts';
import { LoadGenerator } from './lib/load-generator.ts';
import { cpuNanos } from './lib/proc.ts';
import { type Running, startMock } from './lib/processes.ts';
import { CLIENT_TOKEN, rawRequest, startBusbar } from './lib/subjects.ts';

const { values } = parseArgs({
  options: {
    instances: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '20' },
    'per-round': { type: 'string', default: '1000' },
    /** Another build's entry point (e.g. a checkout with one part of the tracer switched off). */
    entry: { type: 'string' },
  },
});
const instances = Number(values.instances);
const rounds = Number(values.rounds);
const perRound = Number(values['per-round']);
/** Past the tracer's 1 s export delay, so a round's last partial batch is exported in its window. */
const SETTLE_MS = 1300;
const UNSAMPLED = 'traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00\r\n';

interface Instance {
  readonly running: Running;
  readonly close: () => Promise<void>;
  sampled: { nanos: number; requests: number };
  unsampled: { nanos: number; requests: number };
}

const mock = await startMock();
const loadgen = new LoadGenerator();
const list: Instance[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function round(instance: Instance, sampled: boolean): Promise<void> {
  const port = instance.running.port;
  const plain = rawRequest(port, 'openai', 'p', false, CLIENT_TOKEN);
  const request = sampled ? plain : plain.replace('Content-Type:', `${UNSAMPLED}Content-Type:`);
  const before = cpuNanos(instance.running.pid);
  const r = await loadgen.run({
    port,
    request,
    concurrency: 64,
    warmup: { requests: 0 },
    measure: { requests: perRound },
    ttfb: false,
    watchPids: [],
    rssEveryMs: 0,
  });
  await sleep(SETTLE_MS);
  const into = sampled ? instance.sampled : instance.unsampled;
  into.nanos += cpuNanos(instance.running.pid) - before;
  into.requests += r.ok;
}

try {
  for (let i = 0; i < instances; i++) {
    const collector = await startCollector();
    const running = await startBusbar(`traced-${i}`, mock.port, { otlp: collector.url }, [], values.entry);
    list.push({
      running,
      close: async () => {
        await running.stop();
        await collector.close();
      },
      sampled: { nanos: 0, requests: 0 },
      unsampled: { nanos: 0, requests: 0 },
    });
  }
  for (const instance of list) {
    await round(instance, true);
    await round(instance, false);
    instance.sampled = { nanos: 0, requests: 0 };
    instance.unsampled = { nanos: 0, requests: 0 };
  }
  for (let n = 0; n < rounds; n++) {
    for (const instance of list) {
      // Alternating which kind goes first cancels drift within a pair of rounds.
      const first = n % 2 === 0;
      await round(instance, first);
      await round(instance, !first);
    }
  }
} finally {
  await loadgen.close();
  for (const i of list) await i.close();
  await mock.stop();
}

const us = (x: { nanos: number; requests: number }): number => x.nanos / x.requests / 1000;
console.log(
  `CPU per request at c=64 (${instances} traced processes, ${rounds} round pairs of ${perRound} requests, each window +${SETTLE_MS} ms):`,
);
let sampledSum = { nanos: 0, requests: 0 };
let unsampledSum = { nanos: 0, requests: 0 };
for (const [i, instance] of list.entries()) {
  console.log(
    `  process ${i}: untraced ${us(instance.unsampled).toFixed(1)} µs, traced ${us(instance.sampled).toFixed(1)} µs, ×${(us(instance.sampled) / us(instance.unsampled)).toFixed(3)}`,
  );
  sampledSum = {
    nanos: sampledSum.nanos + instance.sampled.nanos,
    requests: sampledSum.requests + instance.sampled.requests,
  };
  unsampledSum = {
    nanos: unsampledSum.nanos + instance.unsampled.nanos,
    requests: unsampledSum.requests + instance.unsampled.requests,
  };
}
console.log(
  `  all: untraced ${us(unsampledSum).toFixed(1)} µs, traced ${us(sampledSum).toFixed(1)} µs, ×${(us(sampledSum) / us(unsampledSum)).toFixed(3)}`,
);

// Observability on versus off, alone (issue 12): CPU per request of the gateway at c=64.
//   - off:     a build from before metrics and tracing existed (--baseline, e.g. a checkout of
//              0e01634); without it, this build with metrics only is the reference;
//   - metrics: this build (metrics are always on);
//   - traced:  this build exporting every request's spans to a local OTLP collector (its own process).
//
// This VM's noise has two sources, and the method answers each: the machine's speed drifts by up
// to 2× between minutes (so every subject runs in short rounds, interleaved, in alternating order),
// and one Node process runs a few percent faster or slower than an identical one for its whole
// life (JIT and heap decisions; so each subject is several processes, and the spread between a
// subject's own processes is printed as the noise floor). CPU is each process's threads' schedstat
// time (nanoseconds), summed over all rounds, divided by requests served.
//
//   node bench/observability-ab.ts [--baseline ../busbar-prev/bin/busbar.js] [--instances 3]
//                                  [--rounds 40] [--per-round 1000]

import { parseArgs } from 'node:util';
import { startCollector } from './lib/collector.ts';
import { LoadGenerator } from './lib/load-generator.ts';
import { cpuNanos } from './lib/proc.ts';
import { type Running, startMock } from './lib/processes.ts';
import { CLIENT_TOKEN, rawRequest, startBusbar, type VariantOptions } from './lib/subjects.ts';

const { values } = parseArgs({
  options: {
    baseline: { type: 'string' },
    instances: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '40' },
    'per-round': { type: 'string', default: '1000' },
  },
});
const instances = Number(values.instances);
const rounds = Number(values.rounds);
const perRound = Number(values['per-round']);

interface Instance {
  readonly running: Running;
  nanos: number;
  requests: number;
}
interface Subject {
  readonly name: string;
  readonly instances: Instance[];
}

const mock = await startMock();
const collector = await startCollector();
const loadgen = new LoadGenerator();
const subjects: Subject[] = [];
const start = async (name: string, options: VariantOptions, entry?: string): Promise<void> => {
  const list: Instance[] = [];
  for (let i = 0; i < instances; i++) {
    const running = await startBusbar(`${name}-${i}`, mock.port, options, [], entry);
    list.push({ running, nanos: 0, requests: 0 });
  }
  subjects.push({ name: name.replaceAll('-', ' '), instances: list });
};
const load = (instance: Instance, requests: number) =>
  loadgen.run({
    port: instance.running.port,
    request: rawRequest(instance.running.port, 'openai', 'p', false, CLIENT_TOKEN),
    concurrency: 64,
    warmup: { requests: 0 },
    measure: { requests },
    ttfb: false,
    watchPids: [],
    rssEveryMs: 0,
  });
let received = { exports: 0, bytes: 0 };
try {
  if (values.baseline !== undefined) await start('off-(baseline-build)', {}, values.baseline);
  await start('metrics', {});
  await start('metrics-+-tracing', { otlp: collector.url });
  const all = subjects.flatMap((s) => s.instances);
  for (const instance of all) await load(instance, 5000);
  for (let round = 0; round < rounds; round++) {
    for (const instance of round % 2 === 0 ? all : [...all].reverse()) {
      const before = cpuNanos(instance.running.pid);
      const r = await load(instance, perRound);
      instance.nanos += cpuNanos(instance.running.pid) - before;
      instance.requests += r.ok;
    }
  }
  received = await collector.received();
} finally {
  await loadgen.close();
  for (const s of subjects) for (const i of s.instances) await i.running.stop();
  await mock.stop();
  await collector.close();
}

const usPerRequest = (list: readonly Instance[]): number =>
  list.reduce((a, i) => a + i.nanos, 0) / list.reduce((a, i) => a + i.requests, 0) / 1000;
const reference = usPerRequest(subjects[0]!.instances);
console.log(
  `CPU per request at c=64, ${instances} processes per subject, ${rounds} interleaved rounds of ${perRound} requests each:`,
);
for (const s of subjects) {
  const each = s.instances.map((i) => usPerRequest([i]));
  const spread = (Math.max(...each) / Math.min(...each) - 1) * 100;
  console.log(
    `  ${s.name.padEnd(22)} ${usPerRequest(s.instances).toFixed(1).padStart(6)} µs  ×${(usPerRequest(s.instances) / reference).toFixed(3)}` +
      `   (its processes: ${each.map((v) => v.toFixed(1)).join(', ')}; spread ${spread.toFixed(1)}%)`,
  );
}
console.log(`spans received by the collector: ${received.exports} exports, ${received.bytes} bytes`);

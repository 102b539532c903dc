// CPU per request of Busbar variants side by side at c=64, carefully: a feature's cost (issues 12
// and 13, G-PERF-1b) is a few percent, below what one process per subject can show here.
//   --variants  keys of bench/lib/subjects.ts VARIANTS (default: busbar,busbar-traced); the first is
//               the reference of the ratios;
//   --baseline  also a build from before a feature (e.g. a checkout of 0e01634, before metrics and
//               tracing), as the reference: `off (baseline build)`.
//
// This VM's noise has two sources, and the method answers each: the machine's speed drifts by up
// to 2× between minutes (so every subject runs in short rounds, interleaved, in alternating order),
// and one Node process runs a few percent faster or slower than an identical one for its whole
// life (JIT and heap decisions; so each subject is several processes, and the spread between a
// subject's own processes is printed as the noise floor). CPU is each process's threads' schedstat
// time (nanoseconds), summed over all rounds, divided by requests served.
//
// `--threads` also splits each subject's CPU per request by thread (the main thread, V8's helper
// threads for GC and compilation, libuv's pool), to see where a feature's cost lands.
//
//   node bench/cpu-ab.ts [--variants busbar,busbar-cheapest] [--baseline ../prev/bin/busbar.js]
//                        [--instances 3] [--rounds 40] [--per-round 1000] [--threads]
//                        [--stream [--stream-tokens 200]]

import { parseArgs } from 'node:util';
import { LoadGenerator } from './lib/load-generator.ts';
import { cpuNanosByThread } from './lib/proc.ts';
import { type Running, startMock } from './lib/processes.ts';
import { CLIENT_TOKEN, rawRequest, startBusbar, VARIANTS } from './lib/subjects.ts';

const { values } = parseArgs({
  options: {
    variants: { type: 'string', default: 'busbar,busbar-traced' },
    baseline: { type: 'string' },
    instances: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '40' },
    'per-round': { type: 'string', default: '1000' },
    threads: { type: 'boolean', default: false },
    /** Streamed answers (SSE) instead of whole ones. */
    stream: { type: 'boolean', default: false },
    /** With --stream: answers of this many tokens, one event per HTTP chunk (the mock's --stream-tokens). */
    'stream-tokens': { type: 'string' },
  },
});
const instances = Number(values.instances);
const rounds = Number(values.rounds);
const perRound = Number(values['per-round']);
const variants = values.variants.split(',').map((key) => {
  const variant = VARIANTS.find((v) => v.key === key.trim());
  if (variant === undefined)
    throw new Error(`unknown variant '${key}': ${VARIANTS.map((v) => v.key).join(', ')}`);
  return variant;
});

interface Instance {
  readonly running: Running;
  readonly token: string;
  nanos: number;
  requests: number;
  /** CPU by thread name, over the rounds. */
  readonly threads: Map<string, number>;
}
interface Subject {
  readonly name: string;
  readonly instances: Instance[];
}

const mock = await startMock(
  values['stream-tokens'] === undefined ? [] : [`--stream-tokens=${values['stream-tokens']}`],
);
const loadgen = new LoadGenerator();
const subjects: Subject[] = [];
const load = (instance: Instance, requests: number) =>
  loadgen.run({
    port: instance.running.port,
    request: rawRequest(instance.running.port, 'openai', 'p', values.stream, instance.token),
    concurrency: 64,
    warmup: { requests: 0 },
    measure: { requests },
    ttfb: false,
    watchPids: [],
    rssEveryMs: 0,
  });
try {
  if (values.baseline !== undefined) {
    const list: Instance[] = [];
    for (let i = 0; i < instances; i++) {
      const running = await startBusbar(`baseline-${i}`, mock.port, {}, [], values.baseline);
      list.push({ running, token: CLIENT_TOKEN, nanos: 0, requests: 0, threads: new Map() });
    }
    subjects.push({ name: 'off (baseline build)', instances: list });
  }
  for (const variant of variants) {
    const list: Instance[] = [];
    for (let i = 0; i < instances; i++) {
      const running = await variant.start(mock.port);
      const ready = await variant.ready(running);
      if ('skip' in ready) throw new Error(`${variant.key}: ${ready.skip}`);
      list.push({ running, token: ready.token, nanos: 0, requests: 0, threads: new Map() });
    }
    subjects.push({ name: variant.key, instances: list });
  }
  const all = subjects.flatMap((s) => s.instances);
  for (const instance of all) await load(instance, 5000);
  for (let round = 0; round < rounds; round++) {
    for (const instance of round % 2 === 0 ? all : [...all].reverse()) {
      const before = cpuNanosByThread(instance.running.pid);
      const r = await load(instance, perRound);
      for (const [name, ns] of cpuNanosByThread(instance.running.pid)) {
        const spent = ns - (before.get(name) ?? 0);
        instance.nanos += spent;
        instance.threads.set(name, (instance.threads.get(name) ?? 0) + spent);
      }
      instance.requests += r.ok;
    }
  }
} finally {
  await loadgen.close();
  for (const s of subjects) for (const i of s.instances) await i.running.stop();
  await mock.stop();
}

const usPerRequest = (list: readonly Instance[]): number =>
  list.reduce((a, i) => a + i.nanos, 0) / list.reduce((a, i) => a + i.requests, 0) / 1000;
const reference = usPerRequest(subjects[0]!.instances);
console.log(
  `CPU per ${values.stream ? 'streamed ' : ''}request at c=64, ${instances} processes per subject, ${rounds} interleaved rounds of ${perRound} requests each:`,
);
for (const s of subjects) {
  const each = s.instances.map((i) => usPerRequest([i]));
  const spread = (Math.max(...each) / Math.min(...each) - 1) * 100;
  console.log(
    `  ${s.name.padEnd(22)} ${usPerRequest(s.instances).toFixed(1).padStart(6)} µs  ×${(usPerRequest(s.instances) / reference).toFixed(3)}` +
      `   (its processes: ${each.map((v) => v.toFixed(1)).join(', ')}; spread ${spread.toFixed(1)}%)`,
  );
}
if (values.threads) {
  console.log("By thread, µs per request (summed over each subject's processes):");
  for (const s of subjects) {
    const requests = s.instances.reduce((a, i) => a + i.requests, 0);
    const by = new Map<string, number>();
    for (const i of s.instances) for (const [name, ns] of i.threads) by.set(name, (by.get(name) ?? 0) + ns);
    const parts = [...by].filter(([, ns]) => ns / requests >= 50).sort((a, b) => b[1] - a[1]);
    console.log(
      `  ${s.name.padEnd(22)} ${parts.map(([n, ns]) => `${n} ${(ns / requests / 1000).toFixed(1)}`).join(', ')}`,
    );
  }
}

// Observability on versus off, alone (issue 12): CPU per request of the gateway process (utime +
// stime from /proc, every thread) at c=64, alternating rounds so drift hits every subject.
//   - off:     a build from before metrics and tracing existed (--baseline, e.g. a checkout of
//              0e01634); without it, this build with metrics only stands in as the reference;
//   - metrics: this build (metrics are always on);
//   - traced:  this build exporting every request's spans to a local OTLP collector.
//
//   node bench/observability-ab.ts [--baseline ../busbar-prev/bin/busbar.js] [--rounds 6] [--requests 20000]

import { parseArgs } from 'node:util';
import { startCollector } from './lib/collector.ts';
import { LoadGenerator } from './lib/load-generator.ts';
import { clkTck, cpuTicks } from './lib/proc.ts';
import { type Running, startMock } from './lib/processes.ts';
import { median } from './lib/stats.ts';
import { CLIENT_TOKEN, rawRequest, startBusbar } from './lib/subjects.ts';

const { values } = parseArgs({
  options: {
    baseline: { type: 'string' },
    rounds: { type: 'string', default: '6' },
    requests: { type: 'string', default: '20000' },
  },
});
const rounds = Number(values.rounds);
const requests = Number(values.requests);

const mock = await startMock();
const collector = await startCollector();
const loadgen = new LoadGenerator();
const subjects: { name: string; running: Running; perReq: number[] }[] = [];
if (values.baseline !== undefined)
  subjects.push({
    name: 'off (baseline build)',
    running: await startBusbar('busbar-baseline', mock.port, {}, [], values.baseline),
    perReq: [],
  });
subjects.push({ name: 'metrics', running: await startBusbar('busbar', mock.port), perReq: [] });
subjects.push({
  name: 'metrics + tracing',
  running: await startBusbar('busbar-traced', mock.port, { otlp: collector.url }),
  perReq: [],
});
const usPerTick = 1e6 / clkTck();
const load = (s: (typeof subjects)[number], measured: number, warmup: number) =>
  loadgen.run({
    port: s.running.port,
    request: rawRequest(s.running.port, 'openai', 'p', false, CLIENT_TOKEN),
    concurrency: 64,
    warmup: { requests: warmup },
    measure: { requests: measured },
    ttfb: false,
    watchPids: [],
    rssEveryMs: 0,
  });
let received = { exports: 0, bytes: 0 };
try {
  for (const s of subjects) await load(s, 3000, 3000);
  for (let round = 0; round < rounds; round++) {
    for (const s of round % 2 === 0 ? subjects : [...subjects].reverse()) {
      const before = cpuTicks(s.running.pid);
      const r = await load(s, requests, 0);
      s.perReq.push(((cpuTicks(s.running.pid) - before) * usPerTick) / r.ok);
    }
  }
  received = await collector.received();
} finally {
  await loadgen.close();
  for (const s of subjects) await s.running.stop();
  await mock.stop();
  await collector.close();
}
// Each round's subjects ran back to back: the median of the per-round ratios resists machine drift
// better than the ratio of medians (this VM's CPU per request moved by up to 2× between minutes).
const reference = subjects[0]!;
for (const s of subjects) {
  const ratios = s.perReq.map((x, i) => x / reference.perReq[i]!);
  console.log(
    `${s.name.padEnd(22)} CPU µs/req ${s.perReq.map((x) => x.toFixed(0)).join(' ')}  median ${median(s.perReq).toFixed(1)}  ×${median(ratios).toFixed(3)} (median of per-round ratios)`,
  );
}
console.log(`spans received by the collector: ${received.exports} exports, ${received.bytes} bytes`);

// Governance on versus off, alone: the same deployment with and without `governance:`, the same
// c=64 load, CPU per request of the gateway process read from /proc (utime + stime), alternating
// rounds so drift hits both. The full side-by-side is `npm run bench`; this isolates one ratio.
//
//   node bench/governance-ab.ts [--rounds 4] [--requests 20000]

import { parseArgs } from 'node:util';
import { LoadGenerator } from './lib/load-generator.ts';
import { clkTck, cpuTicks } from './lib/proc.ts';
import { startMock } from './lib/processes.ts';
import { CLIENT_TOKEN, rawRequest, startBusbar, VARIANTS } from './lib/subjects.ts';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '4' }, requests: { type: 'string', default: '20000' } },
});
const rounds = Number(values.rounds);
const requests = Number(values.requests);

const mock = await startMock();
const loadgen = new LoadGenerator();
const off = await startBusbar('busbar', mock.port);
const on = await startBusbar('busbar-governance', mock.port, { governance: true });
const ready = await VARIANTS.find((v) => v.key === 'busbar-governance')!.ready(on);
if ('skip' in ready) throw new Error(ready.skip);
const subjects = [
  { name: 'governance off', running: off, token: CLIENT_TOKEN, perReq: [] as number[] },
  { name: 'governance on', running: on, token: ready.token, perReq: [] as number[] },
];
const usPerTick = 1e6 / clkTck();
try {
  for (const s of subjects) {
    await loadgen.run({
      port: s.running.port,
      request: rawRequest(s.running.port, 'openai', 'p', false, s.token),
      concurrency: 64,
      warmup: { requests: 3000 },
      measure: { requests: 3000 },
      ttfb: false,
      watchPids: [],
      rssEveryMs: 0,
    });
  }
  for (let round = 0; round < rounds; round++) {
    for (const s of round % 2 === 0 ? subjects : [...subjects].reverse()) {
      const before = cpuTicks(s.running.pid);
      const r = await loadgen.run({
        port: s.running.port,
        request: rawRequest(s.running.port, 'openai', 'p', false, s.token),
        concurrency: 64,
        warmup: { requests: 0 },
        measure: { requests },
        ttfb: false,
        watchPids: [],
        rssEveryMs: 0,
      });
      s.perReq.push(((cpuTicks(s.running.pid) - before) * usPerTick) / r.ok);
    }
  }
} finally {
  await loadgen.close();
  await off.stop();
  await on.stop();
  await mock.stop();
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const s of subjects) {
  console.log(
    `${s.name}: CPU µs/req ${s.perReq.map((x) => x.toFixed(0)).join(' ')} (median ${median(s.perReq).toFixed(0)})`,
  );
}
console.log(`ratio on/off: ${(median(subjects[1]!.perReq) / median(subjects[0]!.perReq)).toFixed(3)}`);

// Added latency of Busbar variants over plain Busbar, at c=1 and c=8: the p50 and p99 of each
// subject over interleaved rounds (so the machine's drift hits all alike), and the difference to
// the first variant. Issue 15 asks governance on PostgreSQL + Redis to add under 1 ms at p50.
//
//   node bench/latency-ab.ts [--variants busbar,busbar-governance-fleet] [--rounds 6] [--per-round 2000]

import { parseArgs } from 'node:util';
import { LoadGenerator } from './lib/load-generator.ts';
import { startMock } from './lib/processes.ts';
import { rawRequest, VARIANTS } from './lib/subjects.ts';

const { values } = parseArgs({
  options: {
    variants: { type: 'string', default: 'busbar,busbar-governance-fleet' },
    rounds: { type: 'string', default: '6' },
    'per-round': { type: 'string', default: '2000' },
  },
});
const rounds = Number(values.rounds);
const perRound = Number(values['per-round']);
const variants = values.variants.split(',').map((key) => {
  const variant = VARIANTS.find((v) => v.key === key.trim());
  if (variant === undefined) throw new Error(`unknown variant '${key}'`);
  return variant;
});

const mock = await startMock();
const loadgen = new LoadGenerator();
const subjects: { name: string; port: number; token: string; stop: () => Promise<void> }[] = [];
try {
  for (const variant of variants) {
    const running = await variant.start(mock.port);
    const ready = await variant.ready(running);
    if ('skip' in ready) throw new Error(`${variant.key}: ${ready.skip}`);
    subjects.push({ name: variant.key, port: running.port, token: ready.token, stop: () => running.stop() });
  }
  for (const concurrency of [1, 8]) {
    const p50s = new Map<string, number[]>();
    const p99s = new Map<string, number[]>();
    for (let round = 0; round < rounds; round++) {
      for (const s of round % 2 === 0 ? subjects : [...subjects].reverse()) {
        const r = await loadgen.run({
          port: s.port,
          request: rawRequest(s.port, 'openai', 'p', false, s.token),
          concurrency,
          warmup: { requests: round === 0 ? 1000 : 100 },
          measure: { requests: perRound },
          ttfb: false,
          watchPids: [],
          rssEveryMs: 0,
        });
        if (r.errors > 0) throw new Error(`${s.name}: ${r.errors} errors (${r.firstError})`);
        p50s.set(s.name, [...(p50s.get(s.name) ?? []), r.latencyUs.p50]);
        p99s.set(s.name, [...(p99s.get(s.name) ?? []), r.latencyUs.p99]);
      }
    }
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const base = subjects[0]!.name;
    console.log(
      `c=${concurrency}, ${rounds} interleaved rounds of ${perRound} requests (median of the rounds' percentiles):`,
    );
    for (const s of subjects) {
      const p50 = median(p50s.get(s.name)!);
      const p99 = median(p99s.get(s.name)!);
      const added = p50 - median(p50s.get(base)!);
      console.log(
        `  ${s.name.padEnd(26)} p50 ${(p50 / 1000).toFixed(3)} ms  p99 ${(p99 / 1000).toFixed(3)} ms  added p50 ${(added / 1000).toFixed(3)} ms`,
      );
    }
  }
} finally {
  await loadgen.close();
  for (const s of subjects) await s.stop();
  await mock.stop();
}

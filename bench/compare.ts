// Side by side: this checkout's gateway and another entry point (the previous commit's checkout,
// a build) under the same load in one run, alternating rounds so machine noise falls on both.
// Same-protocol and cross-protocol c=64 non-streaming throughput: req/s and gateway CPU per request.
//
//   npm run bench:compare -- --gateway ../busbar-prev/bin/busbar.js [--rounds 6] [--requests 8000]
//
// A ratio near 1.00 means no measurable difference; the spread across rounds says how much the
// machine moved.

import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { LoadGenerator } from './lib/load-generator.ts';
import { clkTck, processTree } from './lib/proc.ts';
import { REPO_ROOT, type Running, startMock } from './lib/processes.ts';
import { median } from './lib/stats.ts';
import { CLIENT_TOKEN, rawRequest, startBusbar } from './lib/subjects.ts';

const { values: opts } = parseArgs({
  options: {
    gateway: { type: 'string' },
    rounds: { type: 'string', default: '6' },
    requests: { type: 'string', default: '8000' },
  },
});
if (opts.gateway === undefined) {
  process.stderr.write('usage: npm run bench:compare -- --gateway OTHER_ENTRY [--rounds N] [--requests N]\n');
  process.exit(2);
}
const rounds = Number(opts.rounds);
const requests = Number(opts.requests);
const other = path.resolve(opts.gateway);
const ticksToUs = 1e6 / clkTck();

interface Sample {
  readonly reqPerS: number;
  readonly cpuUsPerReq: number;
}

const commitOf = (dir: string): string => {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: dir, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
};

const mock = await startMock(['--chunk-gap-ms=1', '--slow-delay-ms=200']);
const loadgen = new LoadGenerator();
const subjects: Array<{ key: string; commit: string; running: Running }> = [];
try {
  subjects.push({
    key: 'this',
    commit: commitOf(REPO_ROOT),
    running: await startBusbar('this', mock.port),
  });
  subjects.push({
    key: 'other',
    commit: commitOf(path.dirname(other)),
    running: await startBusbar('other', mock.port, {}, [], other),
  });
  const rows = [
    { id: 'same-protocol', model: 'p' },
    { id: 'cross-protocol', model: 'xp' },
  ];
  const samples = new Map<string, Sample[]>();
  const job = (s: (typeof subjects)[number], model: string, measure: number, warm: number) => ({
    port: s.running.port,
    request: rawRequest(s.running.port, 'openai', model, false, CLIENT_TOKEN),
    concurrency: 64,
    warmup: { requests: warm },
    measure: { requests: measure, capMs: 30_000 },
    ttfb: false,
    watchPids: processTree(s.running.pid),
    rssEveryMs: 0,
  });
  for (const s of subjects) for (const r of rows) await loadgen.run(job(s, r.model, 2000, 500));
  for (let round = 0; round < rounds; round++) {
    // Alternate which subject goes first, so neither always runs on a warmer or cooler machine.
    const order = round % 2 === 0 ? subjects : [...subjects].reverse();
    for (const r of rows) {
      for (const s of order) {
        const result = await loadgen.run(job(s, r.model, requests, 500));
        const measured = result.ok + result.errors;
        if (result.errors > 0)
          throw new Error(`${s.key} ${r.id}: ${result.errors} errors (${result.firstError})`);
        const key = `${s.key}/${r.id}`;
        samples.set(key, [
          ...(samples.get(key) ?? []),
          {
            reqPerS: (result.ok / result.elapsedMs) * 1000,
            cpuUsPerReq: (result.cpuTicks * ticksToUs) / measured,
          },
        ]);
      }
    }
    process.stderr.write(`[compare] round ${round + 1}/${rounds} done\n`);
  }
  const lines = [
    `# bench:compare — ${subjects[0]!.commit} (this) vs ${subjects[1]!.commit} (${path.relative(REPO_ROOT, other)})`,
    '',
    `c=64 non-streaming, ${requests} requests per round, ${rounds} rounds alternating; medians (min–max of the per-round ratio).`,
    '',
    '| row | req/s this | req/s other | ratio | CPU µs/req this | CPU µs/req other | ratio |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const a = samples.get(`this/${r.id}`)!;
    const b = samples.get(`other/${r.id}`)!;
    const ratios = (pick: (s: Sample) => number): number[] => a.map((x, i) => pick(x) / pick(b[i]!));
    const span = (xs: number[]): string =>
      `${median(xs).toFixed(3)} (${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)})`;
    const rps = (xs: Sample[]): string => median(xs.map((x) => x.reqPerS)).toFixed(0);
    const cpu = (xs: Sample[]): string => median(xs.map((x) => x.cpuUsPerReq)).toFixed(1);
    lines.push(
      `| ${r.id} | ${rps(a)} | ${rps(b)} | ${span(ratios((x) => x.reqPerS))} | ${cpu(a)} | ${cpu(b)} | ${span(ratios((x) => x.cpuUsPerReq))} |`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  await loadgen.close();
  for (const s of subjects) await s.running.stop();
  await mock.stop();
}

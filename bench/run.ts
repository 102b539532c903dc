// Busbar benchmark (gateway.md §9): `npm run bench` measures, in one run on one machine, a mock
// upstream reached directly (the floor), through a ~40-line Node proxy (the ceiling) and through
// Busbar, and reports every target of §9.2 as a ratio with PASS/FAIL. Loopback only, offline.
//
//   npm run bench                      full run (about 14 min on 2 cores; each subject as 3 processes)
//   npm run bench -- --quick           ~30 s smoke run (numbers are indicative only)
//   npm run bench -- --soak 60         Busbar at c=64 for 60 s, RSS sampled every second
//   npm run bench -- --profile [--profile-seconds 10]
//                                      CPU profile of Busbar under c=64 load (same- and cross-protocol)
//   add --gateway PATH                 run another entry point (a build, another checkout)
//   add --update-docs                  copy the tables into docs/benchmarks.md
//   add --strict                       exit 1 when a target fails (otherwise only when it cannot measure)
//   add --instances N                  processes per subject (full: 3, quick: 1; rounds at least N)
//   add --peers                        also the frontier sweep with the Portkey gateway (bench/peers.ts),
//                                      installed on first use into bench/.peers
//
// Results: bench/results/<timestamp>.json and bench/results/latest.md (latest-soak.md,
// latest-profile.md for the other modes). Method and caveats: docs/benchmarks.md.

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, release, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { measureBurst } from './lib/burst.ts';
import { startCollector } from './lib/collector.ts';
import { LoadGenerator } from './lib/load-generator.ts';
import {
  clkTck,
  cpuTicksOf,
  describeMachine,
  machineBusyTicks,
  processTree,
  rssBytesOf,
  selfAndChildrenTicks,
} from './lib/proc.ts';
import {
  BENCH_DIR,
  gatewayEntry,
  REPO_ROOT,
  type Running,
  request,
  setGatewayEntry,
  sleep,
  startMinimalProxy,
  startMock,
  startNodeFloor,
} from './lib/processes.ts';
import { profileMarkdown, summarize } from './lib/profile.ts';
import { machineLine, markdown, soakMarkdown, targetsTable } from './lib/report.ts';
import {
  evaluateTargets,
  type Figure,
  type FigureName,
  type ProcessResult,
  type Results,
  type RowResult,
  type Settings,
  type SoakResult,
  toMiB,
} from './lib/results.ts';
import { median } from './lib/stats.ts';
import { CLIENT_TOKEN, ROWS, type Row, rawRequest, startBusbar, VARIANTS } from './lib/subjects.ts';
import type { LoadJob, LoadResult } from './loadgen.ts';

const USAGE =
  'usage: npm run bench -- [--quick] [--peers] [--soak SECONDS] [--profile [--profile-seconds N]] [--gateway MAIN] [--instances N] [--update-docs] [--strict]\n';

const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    soak: { type: 'string' },
    profile: { type: 'boolean', default: false },
    'profile-seconds': { type: 'string', default: '10' },
    'update-docs': { type: 'boolean', default: false },
    gateway: { type: 'string' },
    strict: { type: 'boolean', default: false },
    peers: { type: 'boolean', default: false },
    instances: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

const MOCK_CHUNK_GAP_MS = 1;
const MOCK_SLOW_DELAY_MS = 200;

const FULL: Settings = {
  mode: 'full',
  rounds: 3,
  instances: 3,
  latencyMs: 2000,
  ttfbMs: 1500,
  throughputRequests: 8000,
  loadMs: 20_000,
  slowMs: 3000,
  slowConcurrency: 32,
  coldStartRuns: 7,
  mockChunkGapMs: MOCK_CHUNK_GAP_MS,
  mockSlowDelayMs: MOCK_SLOW_DELAY_MS,
};
const QUICK: Settings = {
  ...FULL,
  mode: 'quick',
  rounds: 1,
  instances: 1,
  latencyMs: 700,
  ttfbMs: 500,
  throughputRequests: 3000,
  loadMs: 1500,
  slowMs: 800,
  coldStartRuns: 3,
};
/** Warm-up: once per row before any figure, then before each figure on fresh connections. */
const WARMUP = {
  full: { rowMs: 2000, phaseMs: 300, c64Requests: 1500 },
  quick: { rowMs: 500, phaseMs: 150, c64Requests: 500 },
};

const clkTckCached = clkTck();
const RESULTS_DIR = path.join(BENCH_DIR, 'results');
const DOCS_FILE = path.join(REPO_ROOT, 'docs', 'benchmarks.md');

function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

function commandLine(): string {
  const args = process.argv.slice(2);
  return `npm run bench${args.length > 0 ? ` -- ${args.join(' ')}` : ''}`;
}

function timestamp(d: Date): string {
  return d
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replaceAll(':', '-');
}

function gitCommit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    });
    return dirty.trim() === '' ? head : `${head} + uncommitted src changes`;
  } catch {
    return 'unknown';
  }
}

function toFigure(job: LoadJob, r: LoadResult): Figure {
  const measured = r.ok + r.errors;
  return {
    concurrency: job.concurrency,
    ok: r.ok,
    errors: r.errors,
    firstError: r.firstError,
    elapsedMs: r.elapsedMs,
    reqPerS: r.elapsedMs > 0 ? (r.ok / r.elapsedMs) * 1000 : 0,
    cpuUsPerReq: measured > 0 ? (r.cpuTicks * (1e6 / clkTckCached)) / measured : Number.NaN,
    rssMaxMiB: toMiB(r.rssMaxBytes),
    rssSteadyMiB: toMiB(median(r.rssSamples.slice(Math.floor(r.rssSamples.length / 2)).map(([, b]) => b))),
    latencyUs: r.latencyUs,
  };
}

/**
 * One figure from several rounds: the median of each statistic across rounds (a burst of activity
 * elsewhere on the machine spoils one round, not the figure), error counts summed, RSS at its max.
 */
function combineRounds(figs: readonly Figure[]): Figure {
  if (figs.length === 1) return figs[0]!;
  const med = (pick: (f: Figure) => number): number => median(figs.map(pick));
  const sum = (pick: (f: Figure) => number): number => figs.reduce((a, f) => a + pick(f), 0);
  return {
    concurrency: figs[0]!.concurrency,
    ok: sum((f) => f.ok),
    errors: sum((f) => f.errors),
    firstError: figs.find((f) => f.firstError !== undefined)?.firstError,
    elapsedMs: sum((f) => f.elapsedMs),
    reqPerS: med((f) => f.reqPerS),
    cpuUsPerReq: med((f) => f.cpuUsPerReq),
    rssMaxMiB: Math.max(...figs.map((f) => f.rssMaxMiB)),
    rssSteadyMiB: med((f) => f.rssSteadyMiB),
    latencyUs: {
      count: sum((f) => f.latencyUs.count),
      mean: med((f) => f.latencyUs.mean),
      p50: med((f) => f.latencyUs.p50),
      p90: med((f) => f.latencyUs.p90),
      p99: med((f) => f.latencyUs.p99),
      p999: med((f) => f.latencyUs.p999),
      max: Math.max(...figs.map((f) => f.latencyUs.max)),
    },
  };
}

/** Spawn → listening announcement → first 200 from GET /healthz: wall ms and the child's CPU ms. */
async function coldStartOnce(start: () => Promise<Running>): Promise<{ wall: number; cpu: number }> {
  const running = await start();
  let last = '';
  try {
    for (let i = 0; i < 500; i++) {
      const res = await request(running.port, 'GET', '/healthz');
      last = `${res.status} ${res.body.slice(0, 200)}`;
      if (res.status === 200)
        return {
          wall: Number(process.hrtime.bigint() - running.spawnedAt) / 1e6,
          cpu: (cpuTicksOf(processTree(running.pid)) * 1000) / clkTckCached,
        };
      await sleep(1);
    }
    throw new Error(`${running.name}: /healthz never answered 200 (last: ${last})\n${running.stderr()}`);
  } finally {
    await running.stop();
  }
}

async function sanityCheck(port: number, row: Row, token: string): Promise<void> {
  for (const stream of [false, true]) {
    const raw = rawRequest(port, row.shape, row.model, stream, token);
    const [head, body] = raw.split('\r\n\r\n') as [string, string];
    const headers: Record<string, string> = {};
    for (const line of head.split('\r\n').slice(1)) {
      const i = line.indexOf(':');
      if (!/^(host|content-length)$/i.test(line.slice(0, i))) headers[line.slice(0, i)] = line.slice(i + 2);
    }
    const reqPath = head.split(' ')[1]!;
    const res = await request(port, 'POST', reqPath, headers, body);
    const expected = stream ? /(data: \[DONE\]|message_stop)/ : /("chat\.completion"|"type":"message")/;
    if (res.status !== 200 || !expected.test(res.body))
      throw new Error(
        `${row.id}: sanity request (stream=${stream}) answered ${res.status}: ${res.body.slice(0, 300)}`,
      );
  }
}

/** One process of a subject, and the credential its requests carry. */
interface Instance {
  readonly running: Running;
  readonly token: string;
}
/**
 * A subject's processes. One Node process runs a few percent faster or slower than an identical one
 * for its whole life (JIT and heap decisions; 5–25 % apart on this machine), so each subject is
 * several, and round k of a figure is measured on process k: the median of rounds is a median over
 * processes too.
 */
interface Live {
  readonly instances: readonly Instance[];
}
const instanceFor = (l: Live, round: number): Instance => l.instances[round % l.instances.length]!;

/** Average cores used since `since` by this process tree and by the rest of the machine. */
function loadSince(since: { t: bigint; busy: number; self: number }): Results['load'] {
  const seconds = Number(process.hrtime.bigint() - since.t) / 1e9;
  const bench = (selfAndChildrenTicks() - since.self) / clkTckCached / seconds;
  const all = (machineBusyTicks() - since.busy) / clkTckCached / seconds;
  return { benchCores: bench, otherCores: Math.max(0, all - bench) };
}

const loadMark = () => ({
  t: process.hrtime.bigint(),
  busy: machineBusyTicks(),
  self: selfAndChildrenTicks(),
});

async function fullRun(settings: Settings, warm: (typeof WARMUP)['full']): Promise<Results> {
  const started = new Date();
  const t0 = process.hrtime.bigint();
  const mark = loadMark();
  const results: Results = {
    version: 1,
    startedAt: started.toISOString(),
    finishedAt: '',
    durationS: 0,
    command: commandLine(),
    gateway: path.relative(REPO_ROOT, gatewayEntry()),
    commit: gitCommit(),
    machine: describeMachine(availableParallelism(), release()),
    settings,
    processes: {},
    rows: ROWS.map((r) => ({
      id: r.id,
      label: r.label,
      process: r.process,
      baseline: r.baseline,
      figures: {},
    })),
    targets: [],
  };
  const proc = (key: string): ProcessResult => {
    results.processes[key] ??= { key };
    return results.processes[key];
  };
  const mockArgs = [`--chunk-gap-ms=${MOCK_CHUNK_GAP_MS}`, `--slow-delay-ms=${MOCK_SLOW_DELAY_MS}`];
  const mock = await startMock(mockArgs);
  const live = new Map<string, Live>([['mock', { instances: [{ running: mock, token: CLIENT_TOKEN }] }]]);
  const loadgen = new LoadGenerator();
  try {
    // Cold start first, while nothing else is running (G-PERF-3: busbar with its 20-model config).
    log(`cold start: ${settings.coldStartRuns} spawns each (+1 discarded)`);
    const starters: Record<string, () => Promise<Running>> = {
      'node-floor': startNodeFloor,
      mock: () => startMock(mockArgs),
      'minimal-proxy': () => startMinimalProxy(mock.port),
      busbar: () => startBusbar('busbar', mock.port),
    };
    const cold: Record<string, Array<{ wall: number; cpu: number }>> = Object.fromEntries(
      Object.keys(starters).map((k) => [k, []]),
    );
    for (let i = 0; i <= settings.coldStartRuns; i++) {
      for (const [key, start] of Object.entries(starters)) {
        const once = await coldStartOnce(start);
        if (i > 0) cold[key]!.push(once);
      }
    }
    for (const [key, runs] of Object.entries(cold)) {
      proc(key).coldStartMs = {
        median: median(runs.map((x) => x.wall)),
        runs: runs.map((x) => Math.round(x.wall * 10) / 10),
        cpuMedian: median(runs.map((x) => x.cpu)),
      };
    }

    // The subjects, all up for the whole run, each as `settings.instances` processes; idle RSS a
    // second after start (the median of a subject's processes).
    for (const v of VARIANTS) {
      log(`starting ${v.key}${settings.instances > 1 ? ` (${settings.instances} processes)` : ''}`);
      const instances: Instance[] = [];
      for (let i = 0; i < settings.instances; i++) {
        const running = await v.start(mock.port);
        const ready = await v.ready(running);
        if ('skip' in ready) {
          log(`${v.key}: ${ready.skip}`);
          proc(v.key).skipped = ready.skip;
          await running.stop();
          break;
        }
        instances.push({ running, token: ready.token });
      }
      if (proc(v.key).skipped !== undefined) await Promise.all(instances.map((x) => x.running.stop()));
      else live.set(v.key, { instances });
    }
    const floor = await startNodeFloor();
    await sleep(1000);
    for (const [key, l] of live)
      proc(key).idleRssMiB = median(l.instances.map((x) => toMiB(rssBytesOf(processTree(x.running.pid)))));
    proc('node-floor').idleRssMiB = toMiB(rssBytesOf([floor.pid]));
    await floor.stop();

    const rows: Array<{ row: Row; result: RowResult; live: Live }> = [];
    for (const row of ROWS) {
      const result = results.rows.find((r) => r.id === row.id)!;
      const l = live.get(row.process);
      if (l === undefined) {
        result.skipped = results.processes[row.process]?.skipped ?? 'not started';
        continue;
      }
      for (const x of l.instances) await sanityCheck(x.running.port, row, x.token);
      rows.push({ row, result, live: l });
    }

    /** What one figure sends to one row: concurrency, shape and how long. */
    type Load = {
      c: number;
      stream: boolean;
      warm: LoadJob['warmup'];
      measure: LoadJob['measure'];
      slow?: boolean;
    };
    const job = (r: (typeof rows)[number], o: Load, round: number, rssEveryMs = 100): LoadJob => {
      const { running, token } = instanceFor(r.live, round);
      return {
        port: running.port,
        request: rawRequest(running.port, r.row.shape, o.slow ? 'slow' : r.row.model, o.stream, token),
        concurrency: o.c,
        warmup: o.warm,
        measure: o.measure,
        ttfb: o.stream,
        watchPids: processTree(running.pid),
        rssEveryMs,
      };
    };

    log('warm-up');
    for (const r of rows)
      for (let i = 0; i < r.live.instances.length; i++) {
        await loadgen.run(job(r, { c: 8, stream: false, warm: { ms: 0 }, measure: { ms: warm.rowMs } }, i));
        await loadgen.run(
          job(r, { c: 8, stream: true, warm: { ms: 0 }, measure: { ms: warm.rowMs / 4 } }, i),
        );
      }

    const latency = (c: number, stream: boolean, ms: number): Load => ({
      c,
      stream,
      warm: { ms: warm.phaseMs },
      measure: { ms },
    });
    const atC64 = (stream: boolean): Load => ({
      c: 64,
      stream,
      warm: { requests: warm.c64Requests },
      measure: { requests: settings.throughputRequests, capMs: 30_000 },
    });
    // Each figure runs across all rows back to back, so the ratios compare moments seconds apart.
    const figures: Array<{
      name: FigureName;
      /** The load for a row, or undefined where the figure skips the row. */
      load: (r: (typeof rows)[number]) => Load | undefined;
      rssEveryMs?: number;
    }> = [
      { name: 'c1', load: () => latency(1, false, settings.latencyMs) },
      { name: 'c8', load: () => latency(8, false, settings.latencyMs) },
      { name: 'ttfb', load: () => latency(1, true, settings.ttfbMs) },
      { name: 'c64', load: () => atC64(false) },
      { name: 's64', load: () => atC64(true) },
      {
        // Steady-state RSS: V8 grows the young generation with the allocation rate over several
        // seconds, so a short fixed-count run would catch each process at a different point.
        name: 'load',
        load: (r) =>
          rows.find((x) => x.row.process === r.row.process) === r && r.row.process !== 'mock'
            ? { c: 64, stream: false, warm: { ms: 0 }, measure: { ms: settings.loadMs } }
            : undefined,
        rssEveryMs: 250,
      },
      {
        name: 'slow',
        load: (r) =>
          r.row.slow
            ? {
                c: settings.slowConcurrency,
                stream: false,
                slow: true,
                warm: { ms: 2 * MOCK_SLOW_DELAY_MS },
                measure: { ms: settings.slowMs },
              }
            : undefined,
      },
    ];
    for (const f of figures) {
      const rounds = f.name === 'slow' || f.name === 'load' ? 1 : settings.rounds;
      const perRow = new Map<string, Figure[]>();
      for (let round = 0; round < rounds; round++) {
        // Rotate the order each round so no subject always runs first or last.
        const order = rows.map((_, i) => rows[(i + round) % rows.length]!);
        for (const r of order) {
          const load = f.load(r);
          if (load === undefined) continue;
          const j = job(r, load, round, f.rssEveryMs);
          const res = await loadgen.run(j);
          if (res.ok === 0)
            throw new Error(
              `${f.name} ${r.row.id}: no successful request (${res.errors} errors: ${res.firstError})`,
            );
          const fig = toFigure(j, res);
          perRow.set(r.row.id, [...(perRow.get(r.row.id) ?? []), fig]);
          log(
            `${f.name.padEnd(4)} ${r.row.id.padEnd(18)} p50 ${fig.latencyUs.p50.toFixed(0).padStart(6)} µs  ` +
              `p99 ${fig.latencyUs.p99.toFixed(0).padStart(6)}  p99.9 ${fig.latencyUs.p999.toFixed(0).padStart(6)}  ` +
              `${fig.reqPerS.toFixed(0).padStart(6)} req/s  cpu ${fig.cpuUsPerReq.toFixed(0)} µs/req` +
              (fig.errors > 0 ? `  ${fig.errors} errors (${fig.firstError})` : ''),
          );
        }
      }
      for (const r of rows) {
        const figs = perRow.get(r.row.id);
        if (figs === undefined) continue;
        r.result.figures[f.name] = combineRounds(figs);
        if (figs.length > 1) r.result.rounds = { ...r.result.rounds, [f.name]: figs };
      }
    }

    await sleep(2000);
    for (const [key, l] of live)
      proc(key).idleAfterLoadRssMiB = toMiB(rssBytesOf(processTree(instanceFor(l, 0).running.pid)));
    if (settings.mode === 'full') {
      // Memory after a burst (issue 18): Busbar and the minimal proxy, one after the other.
      results.burst = {};
      for (const key of ['busbar', 'minimal-proxy']) {
        const l = live.get(key);
        if (l === undefined) continue;
        // The process that also ran the 20 s load figure.
        const { running, token } = instanceFor(l, 0);
        log(`${key}: 1,000 concurrent clients for 5 s, then 30 s of rest`);
        results.burst[key] = await measureBurst(
          loadgen,
          running,
          rawRequest(running.port, 'openai', 'p', false, token),
          { concurrency: 1000, burstMs: 5000, afterMs: 30_000 },
        );
      }
    }
  } finally {
    await loadgen.close();
    await Promise.all([...live.values()].flatMap((l) => l.instances.map((x) => x.running.stop())));
  }
  results.load = loadSince(mark);
  results.finishedAt = new Date().toISOString();
  results.durationS = Number(process.hrtime.bigint() - t0) / 1e9;
  results.targets = evaluateTargets(results);
  return results;
}

/** RSS flat after warm-up: the last third's median within max(2 MiB, 3 %) of the first third's. */
function analyseSoak(samples: ReadonlyArray<readonly [number, number]>, durationS: number, warmupS: number) {
  const after = samples.filter(([t]) => t >= warmupS);
  const third = Math.max(1, Math.floor(after.length / 3));
  const early = toMiB(median(after.slice(0, third).map(([, b]) => b)));
  const late = toMiB(median(after.slice(-third).map(([, b]) => b)));
  // Least-squares trend over the post-warm-up samples.
  const n = after.length;
  const mt = after.reduce((s, [t]) => s + t, 0) / n;
  const mb = after.reduce((s, [, b]) => s + toMiB(b), 0) / n;
  let num = 0;
  let den = 0;
  for (const [t, b] of after) {
    num += (t - mt) * (toMiB(b) - mb);
    den += (t - mt) ** 2;
  }
  const growth = late - early;
  return {
    durationS,
    warmupS,
    earlyMiB: early,
    lateMiB: late,
    growthMiB: growth,
    slopeMiBPerMin: den === 0 ? 0 : (num / den) * 60,
    flat: growth <= Math.max(2, 0.03 * early),
  };
}

async function soakRun(seconds: number): Promise<Results> {
  const started = new Date();
  const t0 = process.hrtime.bigint();
  const mark = loadMark();
  const mock = await startMock([`--chunk-gap-ms=${MOCK_CHUNK_GAP_MS}`]);
  const busbar = await startBusbar('busbar', mock.port);
  const loadgen = new LoadGenerator();
  const settings: Settings = { ...FULL, mode: 'soak' };
  let soak: SoakResult;
  try {
    const warmupS = Math.min(15, Math.round(seconds / 4));
    log(`soak: c=64 for ${seconds} s, RSS every second, first ${warmupS} s are warm-up`);
    const j: LoadJob = {
      port: busbar.port,
      request: rawRequest(busbar.port, 'openai', 'p', false, CLIENT_TOKEN),
      concurrency: 64,
      warmup: { ms: 0 },
      measure: { ms: seconds * 1000 },
      ttfb: false,
      watchPids: processTree(busbar.pid),
      rssEveryMs: 1000,
    };
    const r = await loadgen.run(j);
    soak = {
      ...analyseSoak(r.rssSamples, seconds, warmupS),
      concurrency: 64,
      reqPerS: (r.ok / r.elapsedMs) * 1000,
      errors: r.errors,
      samples: r.rssSamples,
    };
  } finally {
    await loadgen.close();
    await busbar.stop();
    await mock.stop();
  }
  const load = loadSince(mark);
  const results: Results = {
    version: 1,
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    durationS: Number(process.hrtime.bigint() - t0) / 1e9,
    command: commandLine(),
    gateway: path.relative(REPO_ROOT, gatewayEntry()),
    commit: gitCommit(),
    machine: describeMachine(availableParallelism(), release()),
    load,
    settings,
    processes: {},
    rows: [],
    soak,
    targets: [],
  };
  results.targets = evaluateTargets(results).filter((t) => t.requirement.includes('soak'));
  return results;
}

async function profileRun(seconds: number): Promise<string> {
  const mock = await startMock([`--chunk-gap-ms=${MOCK_CHUNK_GAP_MS}`]);
  const loadgen = new LoadGenerator();
  const parts: string[] = [];
  try {
    for (const [title, model, governance, traced, stream] of [
      ['same protocol (OpenAI → OpenAI)', 'p', false, false, false],
      ['same protocol, SSE streams (OpenAI → OpenAI)', 'p', false, false, true],
      ['cross protocol (OpenAI → Anthropic)', 'xp', false, false, false],
      ['governance on (OpenAI → OpenAI)', 'p', true, false, false],
      ['tracing on (OpenAI → OpenAI)', 'p', false, true, false],
    ] as const) {
      const dir = mkdtempSync(path.join(tmpdir(), 'busbar-prof-'));
      const collector = traced ? await startCollector() : undefined;
      const busbar = await startBusbar(
        'busbar',
        mock.port,
        { governance, ...(collector === undefined ? {} : { otlp: collector.url }) },
        ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval=200'],
      );
      const variant = VARIANTS.find((v) => v.key === (governance ? 'busbar-governance' : 'busbar'))!;
      const ready = await variant.ready(busbar);
      if ('skip' in ready) throw new Error(`cannot profile ${title}: ${ready.skip}`);
      log(`profiling ${title}: c=64 for ${seconds} s`);
      const r = await loadgen.run({
        port: busbar.port,
        request: rawRequest(busbar.port, 'openai', model, stream, ready.token),
        concurrency: 64,
        warmup: { requests: 2000 },
        measure: { ms: seconds * 1000 },
        ttfb: false,
        watchPids: [],
        rssEveryMs: 0,
      });
      await busbar.stop();
      await collector?.close();
      const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
      if (file === undefined) throw new Error(`no .cpuprofile written in ${dir}`);
      const summary = summarize(path.join(dir, file), REPO_ROOT);
      parts.push(
        profileMarkdown(
          `${title}: ${((r.ok / r.elapsedMs) * 1000).toFixed(0)} req/s at c=64 under the profiler`,
          summary,
        ),
      );
      rmSync(dir, { recursive: true, force: true });
    }
  } finally {
    await loadgen.close();
    await mock.stop();
  }
  return parts.join('\n');
}

/** Replaces the text between `<!-- bench:NAME:begin -->` and `<!-- bench:NAME:end -->`. */
function updateDocs(name: string, body: string): void {
  const begin = `<!-- bench:${name}:begin -->`;
  const end = `<!-- bench:${name}:end -->`;
  const text = readFileSync(DOCS_FILE, 'utf8');
  const a = text.indexOf(begin);
  const b = text.indexOf(end);
  if (a < 0 || b < a) throw new Error(`${DOCS_FILE}: markers ${begin} … ${end} not found`);
  writeFileSync(DOCS_FILE, `${text.slice(0, a + begin.length)}\n${body.trim()}\n${text.slice(b)}`);
  log(`updated ${path.relative(REPO_ROOT, DOCS_FILE)} (${name})`);
}

/** latest.md without its title, headings one level down, for embedding in the docs. */
function demote(md: string): string {
  return md
    .split('\n')
    .slice(1)
    .map((l) => (l.startsWith('#') ? `#${l}` : l))
    .join('\n');
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));

async function main(): Promise<void> {
  if (opts.help) {
    process.stdout.write(USAGE);
    return;
  }
  if (opts.gateway !== undefined) {
    if (opts['update-docs'])
      throw new Error('--update-docs records runs of this repository only (no --gateway)');
    setGatewayEntry(opts.gateway);
  }
  mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = timestamp(new Date());
  /** Runs of another entry point (A/B experiments) never replace the latest-*.md of the repository's. */
  const writeLatest = (name: string, text: string): string => {
    const file = opts.gateway === undefined ? name : name.replace(/^latest/, stamp);
    writeFileSync(path.join(RESULTS_DIR, file), text);
    return `bench/results/${file}`;
  };

  if (opts.profile) {
    const md = await profileRun(Number(opts['profile-seconds']));
    const head = `- Gateway \`${path.relative(REPO_ROOT, gatewayEntry())}\` at commit \`${gitCommit()}\`, sampled every 200 µs.\n\n`;
    const doc = `# Busbar CPU profile — ${new Date().toISOString()}\n\n${head}${md}`;
    writeFileSync(path.join(RESULTS_DIR, `${stamp}-profile.md`), doc);
    if (opts.gateway === undefined) writeFileSync(path.join(RESULTS_DIR, 'latest-profile.md'), doc);
    process.stdout.write(doc);
    if (opts['update-docs'])
      updateDocs('profile', head + md.replaceAll('\n### ', '\n#### ').replace(/^### /, '#### '));
    return;
  }

  if (opts.soak !== undefined) {
    const seconds = Number(opts.soak);
    if (!Number.isFinite(seconds) || seconds < 10)
      throw new Error('--soak needs a duration of at least 10 s');
    const r = await soakRun(seconds);
    writeFileSync(path.join(RESULTS_DIR, `${stamp}-soak.json`), `${JSON.stringify(r, null, 2)}\n`);
    const md = [
      `# Busbar soak — ${r.startedAt}`,
      '',
      `- Machine: ${machineLine(r)}`,
      `- Command: \`${r.command}\`; gateway \`${r.gateway}\` at commit \`${r.commit}\``,
      '',
      targetsTable(r),
      '',
      soakMarkdown(r),
      '',
    ].join('\n');
    writeLatest('latest-soak.md', md);
    process.stdout.write(md);
    if (opts['update-docs']) updateDocs('soak', demote(md));
    if (opts.strict && !r.soak?.flat) process.exitCode = 1;
    return;
  }

  const quick = opts.quick === true;
  const settings = quick ? QUICK : FULL;
  const instances = opts.instances === undefined ? settings.instances : Number(opts.instances);
  if (!Number.isInteger(instances) || instances < 1) throw new Error('--instances needs a whole number ≥ 1');
  // Every process of a subject measures at least one round.
  const rounds = Math.max(settings.rounds, instances);
  const r = await fullRun({ ...settings, instances, rounds }, quick ? WARMUP.quick : WARMUP.full);
  writeFileSync(path.join(RESULTS_DIR, `${stamp}.json`), `${JSON.stringify(r, null, 2)}\n`);
  let md = markdown(r);
  if (opts.peers) {
    // The frontier sweep with the Portkey gateway beside us (bench/peers.ts).
    const { runPeers, peersMarkdown } = await import('./peers.ts');
    const peers = await runPeers({ peers: true, seconds: quick ? 1 : 3, log });
    md += `\n### Peers and the frontier (\`--peers\`)\n\n${peersMarkdown(peers)}\n`;
  }
  const mdFile = writeLatest('latest.md', md);
  process.stdout.write(md);
  log(`wrote bench/results/${stamp}.json and ${mdFile} in ${r.durationS.toFixed(0)} s`);
  if (opts['update-docs']) updateDocs('results', demote(md));
  if (opts.strict && r.targets.some((t) => t.pass === false)) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(
    `[bench] failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exitCode = 1;
});

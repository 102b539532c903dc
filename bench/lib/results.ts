// The results document (bench/results/<timestamp>.json) and the project targets evaluated on it
// (gateway.md §9.2): every target is a measured value against a limit or a ratio to the minimal
// proxy measured in the same run.

import type { BurstFigures } from './burst.ts';
import type { Machine } from './proc.ts';
import type { Percentiles } from './stats.ts';

export interface Figure {
  readonly concurrency: number;
  readonly ok: number;
  readonly errors: number;
  readonly firstError: string | undefined;
  readonly elapsedMs: number;
  readonly reqPerS: number;
  /** utime + stime of the subject process(es) per measured request, microseconds. */
  readonly cpuUsPerReq: number;
  readonly rssMaxMiB: number;
  /** Median VmRSS over the second half of the run (steady state). */
  readonly rssSteadyMiB: number;
  readonly latencyUs: Percentiles;
}

/** `s64`: SSE streams at c=64, fixed count (streams per second and CPU per stream). */
export type FigureName = 'c1' | 'c8' | 'ttfb' | 'c64' | 's64' | 'load' | 'slow';

export interface RowResult {
  readonly id: string;
  readonly label: string;
  readonly process: string;
  readonly baseline: string | undefined;
  skipped?: string;
  /** Each figure is the median over rounds (see `rounds`). */
  figures: Partial<Record<FigureName, Figure>>;
  rounds?: Partial<Record<FigureName, Figure[]>>;
}

export interface ProcessResult {
  readonly key: string;
  /** VmRSS a second after start, before any request. */
  idleRssMiB?: number;
  /** VmRSS two seconds after the last load. */
  idleAfterLoadRssMiB?: number;
  /** Spawn → first 200 from /healthz: wall time, and the process's own CPU time until then. */
  coldStartMs?: { readonly median: number; readonly runs: readonly number[]; readonly cpuMedian: number };
  skipped?: string;
}

export interface SoakResult {
  readonly durationS: number;
  readonly concurrency: number;
  readonly warmupS: number;
  readonly reqPerS: number;
  readonly errors: number;
  readonly samples: ReadonlyArray<readonly [number, number]>;
  readonly earlyMiB: number;
  readonly lateMiB: number;
  readonly growthMiB: number;
  readonly slopeMiBPerMin: number;
  readonly flat: boolean;
}

export interface Settings {
  readonly mode: 'full' | 'quick' | 'soak';
  /** Latency and c=64 figures are measured this many times, rows interleaved, median reported. */
  readonly rounds: number;
  /** Processes per subject; round k of a figure is measured on process k mod instances. */
  readonly instances: number;
  readonly latencyMs: number;
  readonly ttfbMs: number;
  readonly throughputRequests: number;
  /** Duration of the time-based c=64 run that measures steady-state RSS under load. */
  readonly loadMs: number;
  readonly slowMs: number;
  readonly slowConcurrency: number;
  readonly coldStartRuns: number;
  readonly mockChunkGapMs: number;
  readonly mockSlowDelayMs: number;
}

export interface Results {
  readonly version: 1;
  readonly startedAt: string;
  finishedAt: string;
  durationS: number;
  readonly command: string;
  /** The gateway entry point, relative to the repository. */
  readonly gateway: string;
  readonly commit: string;
  readonly machine: Machine;
  /** Average cores used during the run by the bench's processes and by everything else on the machine. */
  load?: { readonly benchCores: number; readonly otherCores: number };
  readonly settings: Settings;
  readonly processes: Record<string, ProcessResult>;
  readonly rows: RowResult[];
  soak?: SoakResult;
  /** RSS around a 1,000-concurrency burst, by process (full runs). */
  burst?: Record<string, BurstFigures>;
  targets: Target[];
}

export interface Target {
  readonly id: string;
  readonly requirement: string;
  readonly measured: string;
  readonly reference: string;
  readonly ratio: string;
  /** null = not measured in this run. */
  readonly pass: boolean | null;
  readonly note?: string;
}

const MiB = 1024 * 1024;
export const toMiB = (bytes: number): number => bytes / MiB;

export function row(r: Results, id: string): RowResult | undefined {
  return r.rows.find((x) => x.id === id && x.skipped === undefined);
}

type Pct = 'p50' | 'p99' | 'p999';

/** Subject minus its direct baseline at one percentile (G-PERF-6). */
export function added(r: Results, rowId: string, fig: FigureName, pct: Pct): number | undefined {
  const subject = row(r, rowId);
  const base = subject?.baseline === undefined ? undefined : row(r, subject.baseline);
  const a = subject?.figures[fig]?.latencyUs[pct];
  const b = base?.figures[fig]?.latencyUs[pct];
  return a === undefined || b === undefined ? undefined : a - b;
}

const us = (v: number | undefined): string => (v === undefined ? 'n/a' : `${v.toFixed(0)} µs`);
const x = (v: number | undefined): string =>
  v === undefined || !Number.isFinite(v) ? 'n/a' : `${v.toFixed(2)}×`;
const div = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined || b === undefined || b === 0 ? undefined : a / b;
const check = (v: number | undefined, ok: (v: number) => boolean): boolean | null =>
  v === undefined || !Number.isFinite(v) ? null : ok(v);

export function evaluateTargets(r: Results): Target[] {
  const t: Target[] = [];
  const burst = r.burst?.busbar;
  if (burst !== undefined) {
    const proxy = r.burst?.['minimal-proxy'];
    const ratio = burst.afterMiB / burst.idleMiB;
    t.push({
      id: 'issue 18',
      requirement: 'RSS 30 s after a 1,000-concurrency burst within 10 % of idle',
      measured: `${burst.afterMiB.toFixed(1)} MiB (idle ${burst.idleMiB.toFixed(1)}, peak ${burst.peakMiB.toFixed(1)})`,
      reference:
        proxy === undefined
          ? ''
          : `minimal proxy: ${proxy.afterMiB.toFixed(1)} MiB (idle ${proxy.idleMiB.toFixed(1)}, peak ${proxy.peakMiB.toFixed(1)})`,
      ratio: `${ratio.toFixed(2)}×`,
      pass: burst.errors === 0 && ratio <= 1.1,
    });
  }
  const bb = row(r, 'busbar');
  const mp = row(r, 'minimal-proxy');
  const errs = (id: string): number =>
    (row(r, id)?.figures.c64?.errors ?? 0) + (row(r, id)?.figures.s64?.errors ?? 0);

  const rps = bb?.figures.c64?.reqPerS;
  const rpsRef = mp?.figures.c64?.reqPerS;
  const rpsRatio = div(rps, rpsRef);
  t.push({
    id: 'G-PERF-1',
    requirement: 'req/s at c=64 ≥ 1.0 × minimal proxy, zero errors',
    measured: rps === undefined ? 'n/a' : `${rps.toFixed(0)} req/s, ${errs('busbar')} errors`,
    reference: rpsRef === undefined ? 'n/a' : `${rpsRef.toFixed(0)} req/s`,
    ratio: x(rpsRatio),
    pass: check(rpsRatio, (v) => v >= 1.0 && errs('busbar') === 0),
  });

  const cpu = bb?.figures.c64?.cpuUsPerReq;
  const cpuRef = mp?.figures.c64?.cpuUsPerReq;
  const cpuRatio = div(cpu, cpuRef);
  t.push({
    id: 'G-PERF-1',
    requirement: 'CPU per request ≤ 1.0 × minimal proxy',
    measured: us(cpu),
    reference: us(cpuRef),
    ratio: x(cpuRatio),
    pass: check(cpuRatio, (v) => v <= 1.0),
  });

  const sps = bb?.figures.s64?.reqPerS;
  const spsRef = mp?.figures.s64?.reqPerS;
  const spsRatio = div(sps, spsRef);
  t.push({
    id: 'G-PERF-1',
    requirement: 'SSE streams per second at c=64 ≥ 1.0 × minimal proxy',
    measured: sps === undefined ? 'n/a' : `${sps.toFixed(0)} streams/s`,
    reference: spsRef === undefined ? 'n/a' : `${spsRef.toFixed(0)} streams/s`,
    ratio: x(spsRatio),
    pass: check(spsRatio, (v) => v >= 1.0),
  });

  /** CPU per request of a row against Busbar same-protocol's, at most `limit` times. */
  const costOver = (target: string, id: string, requirement: string, limit: number, note?: string): void => {
    const cost = row(r, id)?.figures.c64?.cpuUsPerReq;
    const ratio = div(cost, cpu);
    t.push({
      id: target,
      requirement,
      measured: us(cost),
      reference: `${us(cpu)} (Busbar same-protocol)`,
      ratio: x(ratio),
      pass: check(ratio, (v) => v <= limit),
      ...(note === undefined ? {} : { note }),
    });
  };
  const feature = (label: string, limit: number): string =>
    `${label}: CPU per request ≤ ${limit} × Busbar same-protocol`;
  const ONE_PROCESS =
    r.settings.instances > 1
      ? `${r.settings.instances} processes each, one a round; bench/cpu-ab.ts (short interleaved rounds) is the careful figure`
      : 'one process each: identical processes differ by 5–25% here; bench/cpu-ab.ts is the careful figure';
  costOver('G-PERF-1', 'busbar-xproto', 'cross-protocol CPU per request ≤ 1.5 × same-protocol', 1.5);
  costOver('G-PERF-1b', 'busbar-governance', feature('governance on (SQLite)', 1.15), 1.15);
  costOver('G-PERF-1b', 'busbar-governance-fleet', feature('governance on PostgreSQL + Redis', 1.3), 1.3);
  costOver('G-PERF-1b', 'busbar-traced', feature('metrics and tracing on', 1.05), 1.05, ONE_PROCESS);
  costOver(
    'G-PERF-1b',
    'busbar-cheapest',
    feature('a native routing policy (cheapest)', 1.05),
    1.05,
    ONE_PROCESS,
  );
  costOver(
    'issue 13',
    'busbar-script',
    'a script policy: CPU per request ≤ 1.5 × weighted',
    1.5,
    'the sandbox worker thread counted in the process',
  );

  const hookAdded = added(r, 'busbar-webhook', 'c1', 'p50');
  const plainAdded = added(r, 'busbar', 'c1', 'p50');
  const hookDelta = hookAdded === undefined || plainAdded === undefined ? undefined : hookAdded - plainAdded;
  t.push({
    id: 'issue 13',
    requirement: 'a webhook policy over a Unix socket adds < 200 µs at p50 (c=1)',
    measured: us(hookAdded),
    reference: `${us(plainAdded)} (Busbar same-protocol, added)`,
    ratio: hookDelta === undefined ? 'n/a' : `${hookDelta >= 0 ? '+' : ''}${hookDelta.toFixed(0)} µs`,
    pass: check(hookDelta, (v) => v < 200),
  });

  const gcpu = row(r, 'busbar-governance')?.figures.c64?.cpuUsPerReq;
  const dcpu = row(r, 'busbar-dashboard')?.figures.c64?.cpuUsPerReq;
  const dRatio = div(dcpu, gcpu);
  t.push({
    id: 'issue 17',
    requirement: 'one dashboard open: CPU per request < 1.02 × Busbar with governance on',
    measured: us(dcpu),
    reference: `${us(gcpu)} (Busbar, governance on)`,
    ratio: x(dRatio),
    pass: check(dRatio, (v) => v < 1.02),
    note: ONE_PROCESS,
  });

  for (const [pct, label, limit] of [
    ['p50', 'p50', 1.0],
    ['p999', 'p99.9', 1.5],
  ] as const) {
    for (const fig of ['c1', 'c8'] as const) {
      const a = added(r, 'busbar', fig, pct);
      const ref = added(r, 'minimal-proxy', fig, pct);
      const ratio = div(a, ref);
      t.push({
        id: 'G-PERF-1a',
        requirement: `added ${label} at c=${fig === 'c1' ? 1 : 8} ≤ ${limit.toFixed(1)} × minimal proxy's`,
        measured: us(a),
        reference: us(ref),
        ratio: x(ratio),
        pass: check(ratio, (v) => v <= limit),
      });
    }
  }

  const ttfb = added(r, 'busbar', 'ttfb', 'p50');
  const ttfbRef = added(r, 'minimal-proxy', 'ttfb', 'p50');
  const ttfbDelta = ttfb === undefined || ttfbRef === undefined ? undefined : ttfb - ttfbRef;
  t.push({
    id: 'G-PERF-1a',
    requirement: "streaming TTFB added (p50) within 100 µs of minimal proxy's",
    measured: us(ttfb),
    reference: us(ttfbRef),
    ratio: ttfbDelta === undefined ? 'n/a' : `${ttfbDelta >= 0 ? '+' : ''}${ttfbDelta.toFixed(0)} µs`,
    pass: check(ttfbDelta, (v) => v <= 100),
  });

  const cold = r.processes.busbar?.coldStartMs?.median;
  const floor = r.processes['node-floor']?.coldStartMs?.median;
  const overFloor = cold === undefined || floor === undefined ? undefined : cold - floor;
  const ms = (v: number | undefined): string => (v === undefined ? 'n/a' : `${v.toFixed(1)} ms`);
  const mib = (v: number | undefined): string => (v === undefined ? 'n/a' : `${v.toFixed(1)} MiB`);
  const plus = (v: number | undefined, unit: string): string =>
    v === undefined ? 'n/a' : `${v >= 0 ? '+' : ''}${v.toFixed(1)} ${unit}`;
  t.push({
    id: 'G-PERF-3',
    requirement: 'cold start to first /healthz 200 ≤ Node floor + 60 ms (20-model config)',
    measured: ms(cold),
    reference: `bare node:http ${ms(floor)}; minimal proxy ${ms(r.processes['minimal-proxy']?.coldStartMs?.median)}`,
    ratio: plus(overFloor, 'ms'),
    pass: check(overFloor, (v) => v <= 60),
  });

  const idle = r.processes.busbar?.idleRssMiB;
  const idleFloor = r.processes['node-floor']?.idleRssMiB;
  const idleOver = idle === undefined || idleFloor === undefined ? undefined : idle - idleFloor;
  t.push({
    id: 'G-PERF-4',
    requirement: 'idle RSS ≤ Node floor + 20 MiB',
    measured: mib(idle),
    reference: `bare node:http ${mib(idleFloor)}; minimal proxy ${mib(r.processes['minimal-proxy']?.idleRssMiB)}`,
    ratio: plus(idleOver, 'MiB'),
    pass: check(idleOver, (v) => v <= 20),
  });

  const load = bb?.figures.load?.rssSteadyMiB;
  const loadRef = mp?.figures.load?.rssSteadyMiB;
  const loadRatio = div(load, loadRef);
  t.push({
    id: 'G-PERF-4',
    requirement: 'RSS under load (steady state at c=64) ≤ 1.0 × minimal proxy',
    measured: load === undefined ? 'n/a' : `${load.toFixed(1)} MiB`,
    reference: loadRef === undefined ? 'n/a' : `${loadRef.toFixed(1)} MiB`,
    ratio: x(loadRatio),
    pass: check(loadRatio, (v) => v <= 1.0),
  });

  const soak = r.soak;
  t.push({
    id: 'G-PERF-4',
    requirement: 'RSS flat over a 300 s soak at c=64 (after warm-up)',
    measured:
      soak === undefined
        ? 'not run (`npm run bench -- --soak 300`)'
        : `${soak.earlyMiB.toFixed(1)} → ${soak.lateMiB.toFixed(1)} MiB over ${soak.durationS - soak.warmupS} s`,
    reference: soak === undefined ? '' : `growth ≤ max(2 MiB, 3 %)`,
    ratio: soak === undefined ? '' : `${soak.growthMiB >= 0 ? '+' : ''}${soak.growthMiB.toFixed(1)} MiB`,
    pass: soak === undefined ? null : soak.flat && soak.durationS >= 300,
  });

  const two = row(r, 'busbar-2w')?.figures.c64?.reqPerS;
  const scale = div(two, rps);
  t.push({
    id: 'G-PERF-4a',
    requirement: 'workers: 2 → req/s ≥ 0.8 × 2 × one worker',
    measured: two === undefined ? 'n/a' : `${two.toFixed(0)} req/s`,
    reference: rps === undefined ? 'n/a' : `${rps.toFixed(0)} req/s (one worker)`,
    ratio: x(scale),
    pass: null,
    note: 'not measurable on this machine: its 2 cores also run the load generator and the mock (docs/benchmarks.md, scale-out)',
  });
  return t;
}

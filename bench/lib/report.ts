// Markdown for bench/results/latest.md and the copy kept in docs/benchmarks.md.

import { added, type FigureName, type Results, row } from './results.ts';

const n0 = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(0));
const n1 = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(1));
const verdict = (pass: boolean | null): string => (pass === null ? 'n/a' : pass ? '**PASS**' : '**FAIL**');

function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

export function machineLine(r: Results): string {
  const m = r.machine;
  const load =
    r.load === undefined
      ? ''
      : `; during the run the bench used ${r.load.benchCores.toFixed(2)} cores on average and other ` +
        `processes ${r.load.otherCores.toFixed(2)}`;
  return (
    `${m.cpuModel}, ${m.cores} cores, ${m.memTotalMiB} MiB RAM, Linux ${m.kernel}, Node ${m.node}; ` +
    `load average at start ${m.loadAvgAtStart}${load}`
  );
}

export function targetsTable(r: Results): string {
  return table(
    ['Target', 'Requirement', 'Busbar', 'Reference', 'Ratio', 'Result'],
    r.targets.map((t) => [t.id, t.requirement, t.measured, t.reference, t.ratio, verdict(t.pass)]),
  );
}

export function markdown(r: Results): string {
  const out: string[] = [];
  const s = r.settings;
  out.push(`# Busbar benchmark — ${r.startedAt}`);
  out.push('');
  out.push(`- Machine: ${machineLine(r)}`);
  out.push(
    `- Command: \`${r.command}\` (${s.mode} mode, ${r.durationS.toFixed(0)} s); gateway \`${r.gateway}\` ` +
      `at commit \`${r.commit}\``,
  );
  out.push(
    `- Per figure: ${s.latencyMs / 1000} s at c=1 and c=8, ${s.ttfbMs / 1000} s TTFB at c=1, ` +
      `${s.throughputRequests} requests and as many SSE streams at c=64` +
      (s.rounds > 1
        ? `, each ${s.rounds} rounds with the subjects interleaved (median of rounds shown)` +
          (s.instances > 1 ? `, round k on process k of ${s.instances} per subject` : '')
        : '') +
      `; ${s.slowMs / 1000} s at c=${s.slowConcurrency} with a ${s.mockSlowDelayMs} ms upstream; ` +
      `cold start median of ${s.coldStartRuns} spawns.`,
  );
  out.push('');
  out.push('## Targets (gateway.md §9.2)');
  out.push('');
  out.push(targetsTable(r));
  out.push('');
  out.push('## Added latency, µs (subject − direct, per percentile; 0 ms mock)');
  out.push('');
  const subjects = r.rows.filter((x) => x.baseline !== undefined);
  out.push(
    table(
      [
        'Subject',
        'c=1 p50',
        'c=1 p99',
        'c=1 p99.9',
        'c=8 p50',
        'c=8 p99',
        'c=8 p99.9',
        'TTFB p50',
        'TTFB p99',
      ],
      subjects.map((x) =>
        x.skipped !== undefined
          ? [x.label, `*${x.skipped}*`, '', '', '', '', '', '', '']
          : [
              x.label,
              ...(['c1', 'c8'] as const).flatMap((f) =>
                (['p50', 'p99', 'p999'] as const).map((p) => n0(added(r, x.id, f, p))),
              ),
              n0(added(r, x.id, 'ttfb', 'p50')),
              n0(added(r, x.id, 'ttfb', 'p99')),
            ],
      ),
    ),
  );
  out.push('');
  out.push('## Measured latency, µs (end to end at the client)');
  out.push('');
  const lat = (id: string, f: FigureName, p: 'p50' | 'p99' | 'p999'): string =>
    n0(row(r, id)?.figures[f]?.latencyUs[p]);
  out.push(
    table(
      [
        'Subject',
        'c=1 p50',
        'c=1 p99',
        'c=1 p99.9',
        'c=8 p50',
        'c=8 p99',
        'c=8 p99.9',
        'TTFB p50',
        'TTFB p99',
      ],
      r.rows
        .filter((x) => x.skipped === undefined)
        .map((x) => [
          x.label,
          lat(x.id, 'c1', 'p50'),
          lat(x.id, 'c1', 'p99'),
          lat(x.id, 'c1', 'p999'),
          lat(x.id, 'c8', 'p50'),
          lat(x.id, 'c8', 'p99'),
          lat(x.id, 'c8', 'p999'),
          lat(x.id, 'ttfb', 'p50'),
          lat(x.id, 'ttfb', 'p99'),
        ]),
    ),
  );
  out.push('');
  out.push('## Throughput and footprint');
  out.push('');
  const seen = new Set<string>();
  out.push(
    table(
      [
        'Subject',
        'req/s c=64',
        'errors',
        'CPU µs/req',
        'SSE streams/s c=64',
        'CPU µs/stream',
        'RSS idle MiB',
        'RSS under load MiB',
        'RSS idle after load MiB',
        'cold start ms (median)',
        'cold start CPU ms',
      ],
      r.rows.map((x) => {
        if (x.skipped !== undefined) return [x.label, `*${x.skipped}*`, '', '', '', '', '', '', '', '', ''];
        const f = x.figures.c64;
        const st = x.figures.s64;
        // Process-wide figures belong to the first row served by that process.
        const first = !seen.has(x.process);
        seen.add(x.process);
        const p = r.processes[x.process];
        return [
          x.label,
          n0(f?.reqPerS),
          n0(f?.errors),
          n0(f?.cpuUsPerReq),
          n0(st?.reqPerS),
          n0(st?.cpuUsPerReq),
          first ? n1(p?.idleRssMiB) : '″',
          first ? n1(x.figures.load?.rssSteadyMiB) : '″',
          first ? n1(p?.idleAfterLoadRssMiB) : '″',
          first ? n1(p?.coldStartMs?.median) : '″',
          first ? n0(p?.coldStartMs?.cpuMedian) : '″',
        ];
      }),
    ),
  );
  out.push('');
  out.push(
    'CPU µs/req is utime + stime of the subject process alone (the direct rows: the mock) over the ' +
      'fixed-count c=64 runs (streams: the same count of SSE answers); the mock and the load generator run in their own processes. RSS under ' +
      `load is the median VmRSS over the second half of a ${s.loadMs / 1000} s run at c=64 (steady state).`,
  );
  out.push('');
  const slowRows = r.rows.filter((x) => x.figures.slow !== undefined);
  if (slowRows.length > 0) {
    out.push(`## With a ${s.mockSlowDelayMs} ms upstream (G-PERF-7), c=${s.slowConcurrency}`);
    out.push('');
    out.push(
      table(
        ['Subject', 'p50 µs', 'p99 µs', 'p99.9 µs', 'added p50 µs', 'added p99 µs', 'req/s'],
        slowRows.map((x) => [
          x.label,
          n0(x.figures.slow?.latencyUs.p50),
          n0(x.figures.slow?.latencyUs.p99),
          n0(x.figures.slow?.latencyUs.p999),
          x.baseline === undefined ? '—' : n0(added(r, x.id, 'slow', 'p50')),
          x.baseline === undefined ? '—' : n0(added(r, x.id, 'slow', 'p99')),
          n0(x.figures.slow?.reqPerS),
        ]),
      ),
    );
    out.push('');
  }
  if (r.soak !== undefined) out.push(soakMarkdown(r), '');
  return `${out.join('\n')}\n`;
}

export function soakMarkdown(r: Results): string {
  const k = r.soak!;
  const lines = [
    `## Soak: Busbar at c=${k.concurrency} for ${k.durationS} s`,
    '',
    `${k.reqPerS.toFixed(0)} req/s, ${k.errors} errors. RSS after ${k.warmupS} s warm-up: ` +
      `${k.earlyMiB.toFixed(1)} MiB (median of the first third) → ${k.lateMiB.toFixed(1)} MiB ` +
      `(median of the last third), growth ${k.growthMiB.toFixed(1)} MiB, trend ${k.slopeMiBPerMin.toFixed(2)} MiB/min: ` +
      `**${k.flat ? 'flat' : 'NOT flat'}**.`,
    '',
    `RSS per second (MiB): ${k.samples.map(([, b]) => (b / 1024 / 1024).toFixed(0)).join(' ')}`,
  ];
  return lines.join('\n');
}

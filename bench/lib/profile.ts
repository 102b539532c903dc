// Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time per function and per area
// (Busbar sources, undici, pino, Node internals, GC, native).

import { readFileSync } from 'node:fs';
import path from 'node:path';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}
interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly hitCount?: number;
  readonly children?: readonly number[];
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface SelfTime {
  readonly name: string;
  readonly where: string;
  readonly area: string;
  readonly ms: number;
  readonly share: number;
  /** The first caller (outside Node internals when there is one) that accounts for most of it. */
  readonly via: string;
}

export interface ProfileSummary {
  readonly totalMs: number;
  readonly idleMs: number;
  readonly functions: readonly SelfTime[];
  readonly areas: ReadonlyArray<{ readonly area: string; readonly ms: number; readonly share: number }>;
}

function area(url: string, name: string, repoRoot: string): string {
  if (name === '(garbage collector)') return 'GC';
  if (name === '(program)' || url === '') return 'native / V8';
  if (url.startsWith('node:')) return 'Node internals';
  const file = url.startsWith('file://') ? url.slice(7) : url;
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
  if (m) return m[1]!;
  if (file.startsWith(path.join(repoRoot, 'src'))) return 'busbar src';
  return 'other';
}

function where(url: string, line: number, repoRoot: string): string {
  if (url === '') return '';
  const file = url.startsWith('file://') ? url.slice(7) : url;
  const short = file.startsWith(repoRoot) ? path.relative(repoRoot, file) : file;
  return `${short.replace(/^.*node_modules\//, '')}:${line + 1}`;
}

export function summarize(file: string, repoRoot: string, top = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const label = (cf: CallFrame): string =>
    `${cf.functionName || '(anonymous)'} ${where(cf.url, cf.lineNumber, repoRoot)}`.trim();
  /** The nearest ancestor in Busbar's own code or a dependency, else the direct parent. */
  const caller = (id: number): string => {
    let p = parent.get(id);
    const direct = p === undefined ? undefined : byId.get(p);
    while (p !== undefined) {
      const cf = byId.get(p)!.callFrame;
      if (cf.url !== '' && !cf.url.startsWith('node:')) return label(cf);
      p = parent.get(p);
    }
    return direct === undefined ? '' : label(direct.callFrame);
  };
  // Each sample's time is the delta to the next sample.
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i + 1] ?? 0;
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
  }
  const fns = new Map<
    string,
    { name: string; where: string; area: string; us: number; callers: Map<string, number> }
  >();
  let total = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const cf = byId.get(id)?.callFrame;
    if (cf === undefined) continue;
    if (cf.functionName === '(idle)') {
      idle += us;
      continue;
    }
    total += us;
    const name = cf.functionName || '(anonymous)';
    const w = where(cf.url, cf.lineNumber, repoRoot);
    const key = `${name}@${w}`;
    const entry = fns.get(key) ?? {
      name,
      where: w,
      area: area(cf.url, name, repoRoot),
      us: 0,
      callers: new Map<string, number>(),
    };
    entry.us += us;
    const via = caller(id);
    entry.callers.set(via, (entry.callers.get(via) ?? 0) + us);
    fns.set(key, entry);
  }
  const areas = new Map<string, number>();
  for (const f of fns.values()) areas.set(f.area, (areas.get(f.area) ?? 0) + f.us);
  return {
    totalMs: total / 1000,
    idleMs: idle / 1000,
    functions: [...fns.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((f) => ({
        name: f.name,
        where: f.where,
        area: f.area,
        ms: f.us / 1000,
        share: f.us / total,
        via: [...f.callers.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? '',
      })),
    areas: [...areas.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([a, us]) => ({ area: a, ms: us / 1000, share: us / total })),
  };
}

export function profileMarkdown(title: string, s: ProfileSummary): string {
  const pct = (v: number): string => `${(v * 100).toFixed(1)} %`;
  return [
    `### ${title}`,
    '',
    `${s.totalMs.toFixed(0)} ms on CPU (idle ${s.idleMs.toFixed(0)} ms excluded).`,
    '',
    '| Area | self ms | share |',
    '| --- | --- | --- |',
    ...s.areas.map((a) => `| ${a.area} | ${a.ms.toFixed(0)} | ${pct(a.share)} |`),
    '',
    '| Function | Where | Area | self ms | share | mostly via |',
    '| --- | --- | --- | --- | --- | --- |',
    ...s.functions.map(
      (f) =>
        `| \`${f.name}\` | ${f.where} | ${f.area} | ${f.ms.toFixed(0)} | ${pct(f.share)} | ${f.via.replaceAll('|', '\\|')} |`,
    ),
    '',
  ].join('\n');
}

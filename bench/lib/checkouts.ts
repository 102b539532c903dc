// In-process A/B of this checkout against another (`--baseline DIR`): the same measurement loaded
// from each checkout's sources, in alternating rounds so a drift of the machine's speed lands on
// both; the median round of each is printed.

import path from 'node:path';

/** CPU µs of one operation, run `times` times after a warm-up, from process.cpuUsage. */
export function cpuMicrosPer(times: number, warmup: number, once: () => unknown): number {
  for (let i = 0; i < warmup; i++) once();
  const before = process.cpuUsage();
  for (let i = 0; i < times; i++) once();
  const spent = process.cpuUsage(before);
  return (spent.user + spent.system) / times;
}

/**
 * Runs `measure(root)` for this checkout (and `baseline` first, when given) in 5 alternating
 * rounds and prints `<root>: <median> µs of CPU per <what>`.
 */
export async function compareCheckouts(
  baseline: string | undefined,
  what: string,
  measure: (root: string) => Promise<number>,
  digits = 1,
): Promise<void> {
  const here = path.resolve(import.meta.dirname, '..', '..');
  const subjects = baseline === undefined ? [here] : [path.resolve(baseline), here];
  const totals = new Map(subjects.map((s) => [s, [] as number[]]));
  for (let round = 0; round < 5; round++) for (const s of subjects) totals.get(s)!.push(await measure(s));
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  for (const [s, xs] of totals)
    console.log(
      `${path.relative(process.cwd(), s) || '.'}: ${median(xs).toFixed(digits)} µs of CPU per ${what}`,
    );
}

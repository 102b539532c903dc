// Memory after a burst (issue 18, item 3): a subject's RSS at rest, at the peak of a 5 s burst of
// 1,000 concurrent clients, and 30 s after it; the target is the last within 10 % of the first.

import type { LoadGenerator } from './load-generator.ts';
import { processTree, rssBytesOf } from './proc.ts';
import type { Running } from './processes.ts';

export interface BurstFigures {
  readonly idleMiB: number;
  readonly peakMiB: number;
  readonly afterMiB: number;
  readonly errors: number;
}

const MiB = 1024 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function measureBurst(
  loadgen: LoadGenerator,
  running: Running,
  request: string,
  opts: { concurrency: number; burstMs: number; afterMs: number },
): Promise<BurstFigures> {
  await sleep(3000);
  const rss = () => rssBytesOf(processTree(running.pid)) / MiB;
  const idleMiB = rss();
  const r = await loadgen.run({
    port: running.port,
    request,
    concurrency: opts.concurrency,
    warmup: { requests: 0 },
    measure: { ms: opts.burstMs },
    ttfb: false,
    watchPids: processTree(running.pid),
    rssEveryMs: 200,
  });
  await sleep(opts.afterMs);
  return { idleMiB, peakMiB: r.rssMaxBytes / MiB, afterMiB: rss(), errors: r.errors };
}

// Starts the stand-in OTLP/HTTP collector (bench/collector.ts) as a child process.

import path from 'node:path';
import { BENCH_DIR, spawnServer } from './processes.ts';

export interface Collector {
  readonly url: string;
  /** Export requests received and their bytes so far. */
  received(): Promise<{ exports: number; bytes: number }>;
  close(): Promise<void>;
}

export async function startCollector(): Promise<Collector> {
  const running = await spawnServer({
    name: 'otlp-collector',
    args: [path.join(BENCH_DIR, 'collector.ts')],
    announce: 'stdout-json',
  });
  const origin = `http://127.0.0.1:${running.port}`;
  return {
    url: `${origin}/v1/traces`,
    received: async () =>
      (await (await fetch(`${origin}/received`)).json()) as { exports: number; bytes: number },
    close: () => running.stop(),
  };
}

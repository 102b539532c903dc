// The load generator child process (bench/loadgen.ts), driven one job at a time over IPC.

import { type ChildProcess, fork } from 'node:child_process';
import path from 'node:path';
import type { LoadJob, LoadResult } from '../loadgen.ts';
import { BENCH_DIR } from './processes.ts';

/** The load generator child: one job at a time over IPC. */
export class LoadGenerator {
  readonly #child: ChildProcess;
  #pending: { resolve: (r: LoadResult) => void; reject: (e: Error) => void } | undefined;

  constructor() {
    this.#child = fork(path.join(BENCH_DIR, 'loadgen.ts'), [], {
      execPath: process.execPath,
      execArgv: [],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.#child.on('message', (m) => {
      const p = this.#pending;
      this.#pending = undefined;
      p?.resolve(m as LoadResult);
    });
    this.#child.on('exit', (code) => {
      this.#pending?.reject(new Error(`load generator exited (${code})`));
      this.#pending = undefined;
    });
  }

  get pid(): number {
    return this.#child.pid!;
  }

  run(job: LoadJob): Promise<LoadResult> {
    return new Promise((resolve, reject) => {
      this.#pending = { resolve, reject };
      this.#child.send(job);
    });
  }

  /** Disconnects and waits for the exit, so its CPU time is reaped into this process's cutime. */
  async close(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()));
    if (this.#child.connected) this.#child.disconnect();
    await exited;
  }
}

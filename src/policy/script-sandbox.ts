// A script routing policy's sandbox (G-POL-14…18), as the gateway sees it: the script compiled once
// in a worker thread (script-worker.ts), evaluations queued to it in order, each bounded by its own
// deadline from the moment it was asked, queueing included. The event loop never runs the script.
// A worker still busy past an evaluation's deadline is terminated and replaced at once, and the
// evaluations queued behind it go to the new one; every failure is an error verdict, never a throw.

import { Worker } from 'node:worker_threads';
import type { FromWorker, ToWorker, WorkerInit } from './script-worker.ts';

export interface ScriptInput {
  readonly req: Readonly<Record<string, unknown>>;
  readonly candidates: readonly Readonly<Record<string, unknown>>[];
  readonly ctx: Readonly<Record<string, unknown>>;
}

/** The script's answer; the order is not yet checked against the candidates (the caller does). */
export type ScriptVerdict =
  | { readonly kind: 'order'; readonly order: readonly number[] }
  | { readonly kind: 'abstain' }
  | { readonly kind: 'error'; readonly reason: string; readonly timedOut?: boolean };

export interface ScriptSandboxOptions {
  /** How long starting the worker and compiling the script may take; 10 s unless set. */
  readonly timeoutMs?: number;
}

/** Evaluations not yet answered at most; one more is an error at once (G-POL-5 saturation). */
const MAX_PENDING = 64;
/**
 * How long past an evaluation's deadline its worker may stay silent before it is terminated. The
 * interrupt handler stops scripts within a millisecond of the deadline; only a long native call
 * (one that never polls for interrupts, such as `Array(1e9).indexOf(1)`) needs the terminate.
 */
const GRACE_MS = 20;
const START_TIMEOUT_MS = 10_000;
/**
 * The worker's own limits. The native stack is large next to QuickJS's 32 KiB bound, so QuickJS
 * reports deep recursion itself; the V8 heap only holds the QuickJS glue, the WebAssembly memory
 * is bounded by QuickJS's 16 MiB heap.
 */
const WORKER_LIMITS = { stackSizeMb: 8, maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 16 };

interface Job {
  readonly message: ToWorker;
  readonly resolve: (v: ScriptVerdict) => void;
  readonly timer: NodeJS.Timeout;
  /** Sent to the current worker. */
  posted: boolean;
  /** Answered to the caller (by the worker, the deadline, a crash or close). */
  settled: boolean;
}

/** One worker thread with the script compiled in it (once `ready`). */
interface Host {
  readonly worker: Worker;
  ready: boolean;
  /** Settles when the script is compiled in it, or with the reason it never will be. */
  readonly started: Promise<void>;
}

export class ScriptSandbox {
  readonly #source: string;
  /** The worker evaluations go to. */
  #host: Host | undefined;
  /**
   * A second worker, compiled and idle, that takes over at once when the first is stopped: a cold
   * start (a new thread, the WebAssembly module, the boot) takes 100–400 ms, longer than a policy's
   * deadline. Each worker costs a thread, a V8 isolate and a QuickJS heap.
   */
  #spare: Host | undefined;
  /** Evaluations the current worker has not answered, oldest (the one it runs) first. */
  #jobs: Job[] = [];
  #watchdog: NodeJS.Timeout | undefined;
  #nextId = 0;
  #closed = false;

  private constructor(source: string) {
    this.#source = source;
  }

  /** Compiles `source` (G-POL-14); rejects with a one-line message when it does not compile. */
  static async create(source: string, options: ScriptSandboxOptions = {}): Promise<ScriptSandbox> {
    const sandbox = new ScriptSandbox(source);
    const timeoutMs = options.timeoutMs ?? START_TIMEOUT_MS;
    sandbox.#host = sandbox.#launch(timeoutMs);
    sandbox.#spare = sandbox.#launch(timeoutMs);
    try {
      await sandbox.#host.started;
    } catch (err) {
      await sandbox.close();
      throw err;
    }
    // Ready too before the first request, so its start never competes with an evaluation.
    await sandbox.#spare?.started.catch(() => {});
    return sandbox;
  }

  /** One evaluation (G-POL-15, G-POL-16), bounded by `timeoutMs` from now; never rejects. */
  evaluate(input: ScriptInput, timeoutMs: number): Promise<ScriptVerdict> {
    if (this.#closed) return Promise.resolve(failure('the script sandbox is closed'));
    if (this.#jobs.length >= MAX_PENDING)
      return Promise.resolve(failure(`${MAX_PENDING} evaluations are already waiting`));
    if (!(timeoutMs > 0)) return Promise.resolve(failure('no time left for the script', true));
    let json: string;
    try {
      json = JSON.stringify(input);
    } catch (err) {
      return Promise.resolve(failure(`the inputs are not JSON: ${messageOf(err)}`));
    }
    return new Promise<ScriptVerdict>((resolve) => {
      const id = this.#nextId++;
      const message: ToWorker = { type: 'eval', id, input: json, deadline: Date.now() + timeoutMs };
      const job: Job = {
        message,
        resolve,
        timer: setTimeout(() => this.#expire(job, timeoutMs), timeoutMs),
        posted: false,
        settled: false,
      };
      this.#jobs.push(job);
      if (this.#host === undefined) this.#promote(false);
      const host = this.#host;
      if (host === undefined) return;
      host.worker.ref();
      if (host.ready) this.#post(job);
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    const hosts = [this.#host, this.#spare];
    this.#detach();
    this.#spare = undefined;
    for (const job of this.#jobs) this.#settle(job, failure('the script sandbox was closed'));
    this.#jobs = [];
    await Promise.all(hosts.map((h) => h?.worker.terminate()));
  }

  /** Starts a worker for the source; `started` says when the script is compiled in it. */
  #launch(startTimeoutMs: number): Host {
    const worker = new Worker(new URL('./script-worker.ts', import.meta.url), {
      workerData: { source: this.#source } satisfies WorkerInit,
      env: {},
      argv: [],
      resourceLimits: WORKER_LIMITS,
    });
    let crash = '';
    let markReady = () => {};
    let startFailed = (_reason: string) => {};
    const host: Host = {
      worker,
      ready: false,
      started: new Promise<void>((resolve, reject) => {
        markReady = resolve;
        startFailed = (reason) => reject(new Error(reason));
      }),
    };
    host.started.catch(() => {});
    const never = (reason: string) => {
      clearTimeout(startTimer);
      startFailed(reason);
      void worker.terminate();
      if (this.#spare === host) this.#spare = undefined;
      if (this.#host !== host) return;
      this.#detach();
      for (const job of this.#jobs) this.#settle(job, failure(reason));
      this.#jobs = [];
    };
    const startTimer = setTimeout(
      () => never(`the script sandbox did not start within ${startTimeoutMs} ms`),
      startTimeoutMs,
    );
    worker.on('message', (m: FromWorker) => {
      switch (m.type) {
        case 'ready':
          clearTimeout(startTimer);
          host.ready = true;
          markReady();
          if (this.#host === host) this.#flush();
          else worker.unref();
          return;
        case 'compile_error':
          never(m.message);
          return;
        case 'result':
          if (this.#host === host)
            this.#answer(
              m.id,
              m.order === null || m.order.length === 0 ? ABSTAIN : { kind: 'order', order: m.order },
            );
          return;
        case 'error':
          if (this.#host === host) this.#answer(m.id, failure(m.reason, m.timedOut));
          return;
        case 'failed':
          // The culprit is named: the evaluations behind it go to the spare unharmed.
          if (this.#host !== host) return;
          this.#answer(m.id, failure(m.reason));
          this.#replace(m.reason, false);
          return;
        default:
          return m satisfies never;
      }
    });
    worker.on('error', (err) => {
      crash = messageOf(err);
    });
    worker.on('exit', (code) => {
      const why = `the script sandbox exited (${crash || `code ${code}`})`;
      if (!host.ready) never(why);
      else if (this.#spare === host) this.#spare = undefined;
      else if (this.#host === host) this.#replace(why, true);
    });
    return host;
  }

  /** The spare (or a new worker) becomes the current one; with `withSpare`, a new spare starts behind it. */
  #promote(withSpare: boolean): void {
    if (this.#closed) return;
    try {
      this.#host = this.#spare ?? this.#launch(START_TIMEOUT_MS);
      this.#spare = undefined;
      if (this.#host.ready) this.#flush();
      else this.#host.worker.ref();
      if (withSpare) this.#spare = this.#launch(START_TIMEOUT_MS);
    } catch (err) {
      // No thread could be started (the process is out of resources): these evaluations fail,
      // the next one tries again.
      for (const job of this.#jobs)
        this.#settle(job, failure(`the script sandbox did not start: ${messageOf(err)}`));
      this.#jobs = [];
    }
  }

  /** Sends every waiting evaluation to the current worker, which has just become ready. */
  #flush(): void {
    this.#jobs = this.#jobs.filter((job) => !job.settled);
    for (const job of this.#jobs) this.#post(job);
    if (this.#jobs.length === 0) this.#host?.worker.unref();
  }

  /**
   * The worker is gone or stuck: the evaluation it was running fails (`blameRunning`), the spare
   * takes over at once, and every other waiting evaluation is sent to it.
   */
  #replace(reason: string, blameRunning: boolean): void {
    const host = this.#host;
    this.#detach();
    void host?.worker.terminate();
    const running = blameRunning ? this.#jobs.shift() : undefined;
    if (running !== undefined) this.#settle(running, failure(reason));
    this.#jobs = this.#jobs.filter((job) => !job.settled);
    for (const job of this.#jobs) job.posted = false;
    this.#promote(true);
  }

  #detach(): void {
    this.#host = undefined;
    clearTimeout(this.#watchdog);
    this.#watchdog = undefined;
  }

  #post(job: Job): void {
    job.posted = true;
    this.#host?.worker.postMessage(job.message);
    if (this.#jobs[0] === job) this.#watch();
  }

  /** Terminates the worker if the evaluation it runs now is still running past its deadline. */
  #watch(): void {
    clearTimeout(this.#watchdog);
    this.#watchdog = undefined;
    const running = this.#jobs[0];
    if (running === undefined || !running.posted) return;
    const wait = Math.max(0, running.message.deadline + GRACE_MS - Date.now());
    this.#watchdog = setTimeout(() => {
      if (this.#jobs[0] === running)
        this.#replace('the script ran past its deadline and its sandbox was stopped', true);
    }, wait);
  }

  #expire(job: Job, timeoutMs: number): void {
    this.#settle(job, failure(`the script did not answer by its deadline (${timeoutMs} ms)`, true));
    // Never sent (the worker is starting): nothing will answer it, so it leaves the queue now.
    if (!job.posted) this.#jobs = this.#jobs.filter((j) => j !== job);
  }

  #answer(id: number, verdict: ScriptVerdict): void {
    const at = this.#jobs.findIndex((job) => job.message.id === id);
    if (at < 0) return;
    const [job] = this.#jobs.splice(at, 1);
    if (job !== undefined) this.#settle(job, verdict);
    if (at === 0) this.#watch();
    if (this.#jobs.length === 0) this.#host?.worker.unref();
  }

  #settle(job: Job, verdict: ScriptVerdict): void {
    if (job.settled) return;
    job.settled = true;
    clearTimeout(job.timer);
    job.resolve(verdict);
  }
}

const ABSTAIN: ScriptVerdict = { kind: 'abstain' };

function failure(reason: string, timedOut = false): ScriptVerdict {
  return timedOut ? { kind: 'error', reason, timedOut } : { kind: 'error', reason };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

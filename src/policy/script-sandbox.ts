// A script routing policy's sandbox (G-POL-14…18), as the gateway sees it: the script compiled once
// in a worker thread (script-worker.ts), evaluations posted to it and answered in order, each
// bounded by its deadline from the moment it was asked. The event loop never runs the script. A
// worker that does not answer by the deadline is terminated and the next evaluation starts a new
// one; every failure is an error verdict, never an exception.

import { Worker } from 'node:worker_threads';
import type { FromWorker, ToWorker } from './script-worker.ts';

export interface ScriptInput {
  readonly req: Readonly<Record<string, unknown>>;
  readonly candidates: readonly Readonly<Record<string, unknown>>[];
  readonly ctx: Readonly<Record<string, unknown>>;
}

export type ScriptVerdict =
  | { readonly kind: 'order'; readonly order: readonly number[] }
  | { readonly kind: 'abstain' }
  | { readonly kind: 'error'; readonly reason: string; readonly timedOut?: boolean };

/** Evaluations waiting at most; one more is an error at once, never queued. */
const MAX_PENDING = 64;
/** How long past its deadline an evaluation's worker may stay silent before it is terminated. */
const GRACE_MS = 25;

interface Pending {
  readonly resolve: (v: ScriptVerdict) => void;
  readonly timer: NodeJS.Timeout;
}

export class ScriptSandbox {
  readonly #source: string;
  #worker: Worker | undefined;
  #ready: Promise<void> | undefined;
  readonly #pending = new Map<number, Pending>();
  #nextId = 0;

  private constructor(source: string) {
    this.#source = source;
  }

  /** Compiles `source` (G-POL-14); rejects with a one-line message when it does not compile. */
  static async create(source: string): Promise<ScriptSandbox> {
    const sandbox = new ScriptSandbox(source);
    await sandbox.#start();
    return sandbox;
  }

  #start(): Promise<void> {
    const worker = new Worker(new URL('./script-worker.ts', import.meta.url));
    this.#worker = worker;
    this.#ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (m: FromWorker) => {
        if (m.type === 'ready') resolve();
        else if (m.type === 'compile_error') reject(new Error(m.message.split('\n')[0]));
        else if (m.type === 'result') this.#settle(m.id, verdictOf(m.order));
        else this.#settle(m.id, { kind: 'error', reason: m.reason, timedOut: m.timedOut });
      });
      worker.on('error', (err) => reject(err));
      worker.on('exit', () => {
        reject(new Error('the script sandbox exited'));
        if (this.#worker === worker) this.#lost('the script sandbox exited');
      });
    });
    worker.postMessage({ type: 'init', source: this.#source } satisfies ToWorker);
    // Referenced only while it has work: an idle sandbox never keeps the process alive.
    return this.#ready.finally(() => this.#idle());
  }

  /** Every evaluation still waiting on a worker that is gone fails; the next one starts a new worker. */
  #lost(reason: string): void {
    this.#worker = undefined;
    this.#ready = undefined;
    for (const id of [...this.#pending.keys()]) this.#settle(id, { kind: 'error', reason });
  }

  #settle(id: number, verdict: ScriptVerdict): void {
    const pending = this.#pending.get(id);
    if (pending === undefined) return;
    this.#pending.delete(id);
    clearTimeout(pending.timer);
    pending.resolve(verdict);
    this.#idle();
  }

  #idle(): void {
    if (this.#pending.size === 0) this.#worker?.unref();
  }

  /** One evaluation (G-POL-15, G-POL-16); never rejects. */
  async evaluate(input: ScriptInput, timeoutMs: number): Promise<ScriptVerdict> {
    if (this.#pending.size >= MAX_PENDING) return { kind: 'error', reason: 'too many evaluations waiting' };
    const deadline = Date.now() + timeoutMs;
    if (this.#worker === undefined) {
      try {
        await this.#start();
      } catch (err) {
        return { kind: 'error', reason: err instanceof Error ? err.message : String(err) };
      }
    }
    const remaining = deadline - Date.now();
    // A sandbox that took the whole deadline to start is not stopped for it: the next one gets it.
    if (remaining <= 0) return { kind: 'error', reason: 'the sandbox was still starting', timedOut: true };
    const worker = this.#worker!;
    const id = this.#nextId++;
    return new Promise<ScriptVerdict>((resolve) => {
      const timer = setTimeout(() => {
        // The worker's own interrupt ends a runaway script at the deadline; one that stays silent
        // past it is stuck, and so is everything queued behind it.
        if (this.#worker === worker) {
          this.#worker = undefined;
          void worker.terminate();
          this.#lost('the script sandbox was stopped at the deadline');
        }
        this.#settle(id, { kind: 'error', reason: 'deadline passed', timedOut: true });
      }, remaining + GRACE_MS);
      this.#pending.set(id, { resolve, timer });
      worker.ref();
      worker.postMessage({ type: 'eval', id, input: JSON.stringify(input), deadline } satisfies ToWorker);
    });
  }

  async close(): Promise<void> {
    const worker = this.#worker;
    this.#lost('the script sandbox was closed');
    await worker?.terminate();
  }
}

function verdictOf(order: number[] | null): ScriptVerdict {
  return order === null || order.length === 0 ? { kind: 'abstain' } : { kind: 'order', order };
}

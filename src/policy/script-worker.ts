// The worker thread of a script routing policy (script-sandbox.ts, G-POL-14…18): the operator's
// JavaScript runs in QuickJS compiled to WebAssembly and never sees Node. One runtime per worker,
// built once from the source and kept across evaluations; rebuilt only when an evaluation leaves
// promise jobs queued.

import { parentPort, workerData } from 'node:worker_threads';
import { getQuickJS, type QuickJSContext, type QuickJSHandle, type QuickJSRuntime } from 'quickjs-emscripten';
import { bootSource, FILENAME } from './script-boot.ts';

/** G-POL-18: the whole QuickJS heap (intrinsics, inputs, everything the script allocates). */
const HEAP_BYTES = 16 * 1024 * 1024;
/**
 * QuickJS's own stack bound, which ends deep recursion and deep nesting with a catchable error:
 * about 180 plain JS call frames, or a few hundred levels of nested expressions. It is kept well
 * below the thread's native stack (8 MiB, WORKER_LIMITS in script-sandbox.ts): WebAssembly recursion also
 * spends native stack, and a host stack overflow inside QuickJS would leave it unusable.
 */
const STACK_BYTES = 32 * 1024;
/**
 * G-POL-18 operation budget, 250,000 units. One unit is one tick of QuickJS's interrupt counter:
 * every function call and every jump (each loop iteration and branch) is one tick, and QuickJS calls
 * the interrupt handler once per 10,000 ticks, so the budget is 25 calls. The counter is not reset
 * between evaluations, so the first call of an evaluation comes after 1–10,000 ticks: the effective
 * budget is 240,001–250,000 ticks.
 */
const BUDGET_CALLS = 25;

export interface WorkerInit {
  readonly source: string;
}

export type ToWorker = {
  readonly type: 'eval';
  readonly id: number;
  /** The inputs as JSON: parsed inside the sandbox, so each evaluation gets its own deep copy. */
  readonly input: string;
  /** `Date.now()` after which the evaluation is cut short. */
  readonly deadline: number;
};

export type FromWorker =
  | { readonly type: 'ready' }
  | { readonly type: 'compile_error'; readonly message: string }
  | { readonly type: 'result'; readonly id: number; readonly order: number[] | null }
  | { readonly type: 'error'; readonly id: number; readonly reason: string; readonly timedOut: boolean }
  /** The interpreter broke during evaluation `id` (-1: between evaluations); the thread ends next. */
  | { readonly type: 'failed'; readonly id: number; readonly reason: string };

interface Sandbox {
  readonly runtime: QuickJSRuntime;
  readonly context: QuickJSContext;
  readonly run: QuickJSHandle;
}

const { source } = workerData as WorkerInit;
const QuickJS = await getQuickJS();
const port = parentPort;
let sandbox: Sandbox | undefined;

// The interrupt handler's state for the evaluation in progress.
let calls = 0;
let deadline = 0;
let stopped: 'budget' | 'deadline' | undefined;

function post(message: FromWorker): void {
  port?.postMessage(message);
}

/** `Name: message (policy.js:line:column)` on one line, from a QuickJS error handle. */
function describe(context: QuickJSContext, handle: QuickJSHandle): string {
  const error = context.dump(handle) as { name?: unknown; message?: unknown; stack?: unknown } | unknown;
  handle.dispose();
  if (error === null || typeof error !== 'object') return `uncaught ${oneLine(String(error))}`;
  const { name, message, stack } = error as { name?: unknown; message?: unknown; stack?: unknown };
  const where =
    typeof stack === 'string' ? /\((?:policy\.js:)?(\d+:\d+)\)|policy\.js:(\d+:\d+)/.exec(stack) : null;
  const at = where ? ` (line:column ${where[1] ?? where[2]})` : '';
  return oneLine(`${String(name ?? 'Error')}: ${String(message ?? '')}${at}`);
}

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}

function dispose(s: Sandbox): void {
  s.run.dispose();
  s.context.dispose();
  s.runtime.dispose();
}

/** A runtime with the script compiled and every intrinsic frozen, or the compile error. */
function build(): Sandbox | { readonly error: string } {
  const runtime = QuickJS.newRuntime();
  runtime.setMemoryLimit(HEAP_BYTES);
  runtime.setInterruptHandler(() => {
    if (++calls > BUDGET_CALLS) stopped = 'budget';
    else if (Date.now() >= deadline) stopped = 'deadline';
    return stopped !== undefined;
  });
  const context = runtime.newContext();
  const fail = (handle: QuickJSHandle) => {
    const error = describe(context, handle);
    context.dispose();
    runtime.dispose();
    return { error };
  };
  // The same grammar as the evaluation: strict code, as a direct eval inside a strict function is.
  const compiled = context.evalCode(source, FILENAME, { compileOnly: true, strict: true });
  if (compiled.error) return fail(compiled.error);
  compiled.value.dispose();
  // The boot is the sandbox's own code: no budget, no deadline.
  calls = Number.NEGATIVE_INFINITY;
  deadline = Number.POSITIVE_INFINITY;
  stopped = undefined;
  const booted = context.evalCode(bootSource(source), 'boot.js', { strict: true });
  if (booted.error) return fail(booted.error);
  const run = booted.value;
  // Set after the boot, whose freezing walk recurses deeper than any script needs to.
  runtime.setMaxStackSize(STACK_BYTES);
  return { runtime, context, run };
}

/**
 * A promise job left queued would keep one evaluation's objects alive into the next (no job is ever
 * run), so that runtime is thrown away. Nothing else can carry over: every reachable object is
 * frozen, and QuickJS unwinds cleanly from an interrupt, out of memory or a stack overflow.
 */
function discardIfDirty(s: Sandbox): void {
  if (!s.runtime.hasPendingJob()) return;
  sandbox = undefined;
  dispose(s);
}

type Outcome = { readonly order: number[] | null } | { readonly reason: string; readonly timedOut: boolean };

function evaluate(input: string, until: number): Outcome {
  if (Date.now() >= until) return { reason: 'the deadline passed before the script ran', timedOut: true };
  if (sandbox === undefined) {
    const built = build();
    if ('error' in built) return { reason: built.error, timedOut: false };
    sandbox = built;
  }
  const { context, run } = sandbox;
  calls = 0;
  deadline = until;
  stopped = undefined;
  const arg = context.newString(input);
  const result = context.callFunction(run, context.undefined, arg);
  arg.dispose();
  if (result.error) {
    const reason = describe(context, result.error);
    discardIfDirty(sandbox);
    if (stopped === 'budget')
      return { reason: 'the script used up its operation budget (250000)', timedOut: false };
    if (stopped === 'deadline') return { reason: 'the script ran past its deadline', timedOut: true };
    return { reason, timedOut: false };
  }
  const text = context.getString(result.value);
  result.value.dispose();
  discardIfDirty(sandbox);
  return { order: JSON.parse(text) as number[] | null };
}

function rebuild(): void {
  if (sandbox !== undefined) return;
  try {
    const built = build();
    if (!('error' in built)) sandbox = built;
  } catch (err) {
    post({ type: 'failed', id: -1, reason: `the sandbox failed: ${oneLine(String(err))}` });
    process.exit(1);
  }
}

const first = build();
if ('error' in first) post({ type: 'compile_error', message: first.error });
else {
  sandbox = first;
  post({ type: 'ready' });
  port?.on('message', (message: ToWorker) => {
    let outcome: Outcome;
    try {
      outcome = evaluate(message.input, message.deadline);
    } catch (err) {
      // A host error inside QuickJS (the thread's native stack, an aborted WebAssembly instance)
      // leaves the interpreter unusable: answer, then end this thread; the sandbox starts another.
      post({ type: 'failed', id: message.id, reason: `the sandbox failed: ${oneLine(String(err))}` });
      process.exit(1);
    }
    post(
      'reason' in outcome
        ? { type: 'error', id: message.id, reason: outcome.reason, timedOut: outcome.timedOut }
        : { type: 'result', id: message.id, order: outcome.order },
    );
    // A runtime thrown away is rebuilt now, while the worker is idle, not in the next evaluation.
    if (sandbox === undefined) setImmediate(rebuild);
  });
}

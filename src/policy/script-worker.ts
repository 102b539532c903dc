// The worker thread of a script routing policy (script-sandbox.ts, G-POL-14…18): the operator's
// JavaScript runs in QuickJS compiled to WebAssembly, never with access to Node. One runtime with a
// 16 MiB heap and a bounded stack; every intrinsic frozen once, so nothing an evaluation does can
// reach the next; the inputs are parsed inside the sandbox from JSON (deep copies by construction)
// and frozen; an interrupt handler ends runaway code at the operation budget or the deadline. After
// any failure the runtime is rebuilt from the source.

import { parentPort } from 'node:worker_threads';
import { getQuickJS, type QuickJSContext, type QuickJSHandle, type QuickJSRuntime } from 'quickjs-emscripten';

/** G-POL-18 heap cap. */
const HEAP_BYTES = 16 * 1024 * 1024;
/** Stack for the interpreter: bounds call and expression nesting. */
const STACK_BYTES = 256 * 1024;
/**
 * QuickJS asks the interrupt handler about every 10,000 operations; 25 asks ≈ the 250,000-operation
 * budget of G-POL-18.
 */
const INTERRUPT_BUDGET = 25;

export type ToWorker =
  | { readonly type: 'init'; readonly source: string }
  | { readonly type: 'eval'; readonly id: number; readonly input: string; readonly deadline: number };

export type FromWorker =
  | { readonly type: 'ready' }
  | { readonly type: 'compile_error'; readonly message: string }
  | { readonly type: 'result'; readonly id: number; readonly order: number[] | null }
  | { readonly type: 'error'; readonly id: number; readonly reason: string; readonly timedOut: boolean };

/** Runs inside the sandbox once: the entry point, then every reachable intrinsic frozen. */
const BOOT = (source: string): string => `(() => {
  'use strict';
  const evaluate = new Function('req', 'candidates', 'ctx', '"use strict"; return eval(' + ${JSON.stringify(JSON.stringify(source))} + ');');
  const deepFreeze = (o) => {
    if (o !== null && typeof o === 'object') { Object.freeze(o); for (const k of Object.keys(o)) deepFreeze(o[k]); }
    return o;
  };
  globalThis.__busbarRun = (input) => {
    const { req, candidates, ctx } = deepFreeze(JSON.parse(input));
    const out = evaluate(req, candidates, ctx);
    if (!Array.isArray(out)) return 'null';
    if (out.length > 4096) throw new RangeError('the result has more than 4096 elements');
    const order = [];
    for (let i = 0; i < out.length; i++) { const v = out[i]; if (Number.isInteger(v) && v >= 0) order.push(v); }
    return JSON.stringify(order);
  };
  const seen = new Set();
  const lock = (o) => {
    if (o === null || (typeof o !== 'object' && typeof o !== 'function') || seen.has(o)) return;
    seen.add(o);
    Object.freeze(o);
    for (const key of Reflect.ownKeys(o)) {
      const d = Object.getOwnPropertyDescriptor(o, key);
      if (d === undefined) continue;
      if ('value' in d) lock(d.value);
      else { lock(d.get); lock(d.set); }
    }
    lock(Object.getPrototypeOf(o));
  };
  lock(globalThis);
})()`;

interface Sandbox {
  readonly runtime: QuickJSRuntime;
  readonly context: QuickJSContext;
  readonly run: QuickJSHandle;
}

const QuickJS = await getQuickJS();
let source = '';
let sandbox: Sandbox | undefined;

function dispose(s: Sandbox | undefined): void {
  if (s === undefined) return;
  s.run.dispose();
  s.context.dispose();
  s.runtime.dispose();
}

/** A fresh sandbox for `source`, or the compile error's message. */
function build(): Sandbox | string {
  const runtime = QuickJS.newRuntime();
  runtime.setMemoryLimit(HEAP_BYTES);
  runtime.setMaxStackSize(STACK_BYTES);
  const context = runtime.newContext();
  const compiled = context.evalCode(source, 'policy.js', { compileOnly: true });
  if (compiled.error) {
    const error = context.dump(compiled.error) as { name?: string; message?: string };
    compiled.error.dispose();
    context.dispose();
    runtime.dispose();
    return `${error?.name ?? 'Error'}: ${error?.message ?? String(error)}`;
  }
  compiled.value.dispose();
  const booted = context.evalCode(BOOT(source));
  if (booted.error) {
    const error = String(context.dump(booted.error)?.message ?? 'the sandbox did not start');
    booted.error.dispose();
    context.dispose();
    runtime.dispose();
    return error;
  }
  booted.value.dispose();
  return { runtime, context, run: context.getProp(context.global, '__busbarRun') };
}

function evaluate(
  input: string,
  deadline: number,
): { order: number[] | null } | { reason: string; timedOut: boolean } {
  if (sandbox === undefined) {
    const built = build();
    if (typeof built === 'string') return { reason: built, timedOut: false };
    sandbox = built;
  }
  const { runtime, context, run } = sandbox;
  let asked = 0;
  runtime.setInterruptHandler(() => ++asked > INTERRUPT_BUDGET || Date.now() > deadline);
  const arg = context.newString(input);
  const result = context.callFunction(run, context.undefined, arg);
  arg.dispose();
  if (result.error) {
    const error = context.dump(result.error) as { name?: string; message?: string } | undefined;
    result.error.dispose();
    // Whatever failed (a limit, the deadline, a throw), the next evaluation starts clean.
    dispose(sandbox);
    sandbox = undefined;
    const reason = `${error?.name ?? 'Error'}: ${error?.message ?? String(error)}`;
    const timedOut = Date.now() > deadline;
    return { reason: timedOut ? `deadline passed (${reason})` : reason, timedOut };
  }
  const text = context.getString(result.value);
  result.value.dispose();
  const order = JSON.parse(text) as number[] | null;
  return { order };
}

parentPort?.on('message', (message: ToWorker) => {
  if (message.type === 'init') {
    source = message.source;
    const built = build();
    if (typeof built === 'string') parentPort?.postMessage({ type: 'compile_error', message: built });
    else {
      sandbox = built;
      parentPort?.postMessage({ type: 'ready' });
    }
    return;
  }
  const outcome = evaluate(message.input, message.deadline);
  parentPort?.postMessage(
    'reason' in outcome
      ? { type: 'error', id: message.id, reason: outcome.reason, timedOut: outcome.timedOut }
      : { type: 'result', id: message.id, order: outcome.order },
  );
});

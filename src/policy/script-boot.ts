// The JavaScript that sets a script policy's QuickJS context up once (script-worker.ts): the three
// read-only globals, the entry point the worker calls per evaluation, and every reachable object
// frozen, so nothing one evaluation does can be seen by the next.

/** The name QuickJS gives the operator's script in error positions. */
export const FILENAME = 'policy.js';

/** G-POL-18: the longest result array accepted. */
export const MAX_RESULT = 4096;

/**
 * The boot script; its completion value is `run(json)`, which parses the inputs (a fresh deep copy
 * per evaluation), runs the script and returns its order as JSON (`"null"` for no array).
 *
 * The script runs as a strict direct `eval` inside a function built by `new Function`, so it sees
 * only the global scope, its `var`s stay its own, and its completion value is the result. QuickJS
 * parses that text on each call: the binding offers no way to run a compiled global script again
 * (no `JS_EvalFunction`), and only eval and global code have a completion value.
 */
export function bootSource(source: string): string {
  const body = `"use strict"; return eval(${JSON.stringify(source)});`;
  return `(() => {
  'use strict';
  const script = new Function(${JSON.stringify(body)});
  const { parse, stringify } = JSON;
  const { isArray } = Array;
  const { isInteger } = Number;
  let current;
  for (const key of ['req', 'candidates', 'ctx']) {
    Object.defineProperty(globalThis, key, {
      get() { return current === undefined ? undefined : current[key]; },
      enumerable: true,
      configurable: false,
    });
  }
  const run = (json) => {
    current = parse(json);
    let out;
    try { out = script(); } finally { current = undefined; }
    if (!isArray(out)) return 'null';
    const n = out.length;
    if (n > ${MAX_RESULT}) throw new RangeError('the result has ' + n + ' elements, more than ${MAX_RESULT}');
    const order = [];
    for (let i = 0; i < n; i++) {
      const v = out[i];
      if (typeof v === 'number' && isInteger(v) && v >= 0) order[order.length] = v;
    }
    return stringify(order);
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
  lock(run);
  // Intrinsics no global property leads to, reached through instances: the generator and async
  // function families and the iterator prototypes.
  const iterate = (o) => o[Symbol.iterator]();
  for (const make of [
    () => function* () {}, () => async function () {}, () => async function* () {},
    () => (function* () {})(), () => (async function* () {})(),
    () => iterate([]), () => iterate(''), () => iterate(new Map()), () => iterate(new Set()),
    () => ''.matchAll(/a/g), () => [].values().map((x) => x), () => Iterator.from({ next() {} }),
  ]) {
    try { lock(make()); } catch {}
  }
  seen.clear();
  return run;
})()`;
}

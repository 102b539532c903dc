// Node's built-in modules that have lazy exports, taken as their CommonJS objects. An ESM
// `import … from 'node:x'` makes Node read every export of x, and some exports are getters that
// load a whole subsystem when read: node:http's WebSocket loads Node's bundled fetch stack
// (+60–80 ms, +13 MiB), node:fs's `promises` loads fs/promises and readline (+6 ms, +2 MiB),
// node:crypto's `webcrypto` loads Web Crypto (+2 ms, +1 MiB), node:util's `parseArgs`, `diff` and
// their neighbours load the argument parser, the diff engine and worker_threads (+2–4 ms); node:net
// and node:stream have smaller ones. Taking the object reads nothing.
// Types still come from `import type … from 'node:x'`.

export const fs = process.getBuiltinModule('node:fs');
export const crypto = process.getBuiltinModule('node:crypto');
export const http = process.getBuiltinModule('node:http');
export const net = process.getBuiltinModule('node:net');
export const stream = process.getBuiltinModule('node:stream');
export const util = process.getBuiltinModule('node:util');

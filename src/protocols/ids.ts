// Unbiased random identifiers (G-SEC-52): base62 from the OS CSPRNG with rejection sampling.
// Random bytes are drawn in blocks, so minting an id does not cost a system call each time.

import { crypto } from '../builtins.ts';

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const POOL = Buffer.alloc(4096);
let next = POOL.length;

function randomByte(): number {
  if (next === POOL.length) {
    crypto.randomFillSync(POOL);
    next = 0;
  }
  return POOL[next++]!;
}

/** `length` base62 characters; bytes ≥ 248 are rejected so every character is equally likely. */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    const b = randomByte();
    if (b < 248) out += BASE62[b % 62];
  }
  return out;
}

export function mintId(prefix: string, length = 24): string {
  return prefix + randomBase62(length);
}

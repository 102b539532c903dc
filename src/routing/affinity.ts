// Session affinity hash (G-POOL-15): FNV-1a 64 over the key's UTF-8 bytes, stable across
// processes and restarts.

const OFFSET = 0xcbf29ce484222325n;
const PRIME = 0x00000100000001b3n;
const MASK = 0xffffffffffffffffn;

export function fnv1a64(key: string): bigint {
  let hash = OFFSET;
  for (const byte of Buffer.from(key, 'utf8')) hash = ((hash ^ BigInt(byte)) * PRIME) & MASK;
  return hash;
}

/** Index of the sticky member among `count` configured members. */
export function stickyIndex(key: string, count: number): number {
  return Number(fnv1a64(key) % BigInt(count));
}

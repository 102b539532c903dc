// What the gateway remembers of signed reasoning for callers whose protocol cannot hand it back
// (issue 20, protocols/signed-reasoning.ts): per caller scope and tool-turn key, for an hour at
// most, within a memory cap, the least recently used out first. One process holds it: a lone
// gateway its own, a `workers: N` node the primary's, which workers ask over IPC
// (reasoning-memory-ipc.ts).

import type { Protocol } from '../protocols/names.ts';
import type { SignedBlock, SignedTurn } from '../protocols/signed-reasoning.ts';

/** A remembered turn: its signed reasoning and the upstream protocol that signed it. */
export interface RememberedTurn {
  readonly upstream: Protocol;
  readonly blocks: readonly SignedBlock[];
}

/** Remembered turns by turn key; a key that has nothing (or could not be asked) is absent. */
export type Recalled = Readonly<Record<string, RememberedTurn>>;

export interface ReasoningMemory {
  /** Keeps `turn` for the caller `scope`; replaces what that scope had under the same key. */
  remember(scope: string, turn: SignedTurn, upstream: Protocol): void;
  /** What `scope` has under `keys`. Never rejects: a memory that cannot answer answers nothing. */
  recall(scope: string, keys: readonly string[]): Promise<Recalled>;
}

export interface ReasoningLimits {
  /** How long a turn is kept after it was remembered. */
  readonly ttlMs: number;
  /** Characters held at most (reasoning text, signatures, redacted data and keys; UTF-16, 2 bytes each). */
  readonly maxChars: number;
  /** Turns held at most. */
  readonly maxTurns: number;
}

/** 1 h, 32 Mi characters (64 MiB), 50 000 turns. */
export const REASONING_LIMITS: ReasoningLimits = Object.freeze({
  ttlMs: 60 * 60 * 1000,
  maxChars: 32 * 1024 * 1024,
  maxTurns: 50_000,
});

/** What an entry costs beyond its strings: the map slot and the objects around them, roughly. */
const ENTRY_OVERHEAD_CHARS = 64;

interface Entry {
  readonly turn: RememberedTurn;
  readonly expiresAt: number;
  readonly chars: number;
}

function charsOf(id: string, blocks: readonly SignedBlock[]): number {
  let chars = id.length + ENTRY_OVERHEAD_CHARS;
  for (const b of blocks)
    chars += b.type === 'thinking' ? b.thinking.length + b.signature.length : b.data.length;
  return chars;
}

/** The memory itself: a Map in recency order (a recall moves an entry to the end). */
export class ReasoningStore implements ReasoningMemory {
  readonly #entries = new Map<string, Entry>();
  readonly #limits: ReasoningLimits;
  readonly #now: () => number;
  #chars = 0;

  constructor(limits: ReasoningLimits = REASONING_LIMITS, now: () => number = Date.now) {
    this.#limits = limits;
    this.#now = now;
  }

  /** Turns and characters held now (for tests and stats). */
  get size(): { turns: number; chars: number } {
    return { turns: this.#entries.size, chars: this.#chars };
  }

  remember(scope: string, turn: SignedTurn, upstream: Protocol): void {
    const id = entryId(scope, turn.key);
    const chars = charsOf(id, turn.blocks);
    this.#drop(id);
    if (chars > this.#limits.maxChars) return;
    this.#entries.set(id, {
      turn: { upstream, blocks: turn.blocks },
      expiresAt: this.#now() + this.#limits.ttlMs,
      chars,
    });
    this.#chars += chars;
    this.#evict();
  }

  recall(scope: string, keys: readonly string[]): Promise<Recalled> {
    return Promise.resolve(this.recallNow(scope, keys));
  }

  recallNow(scope: string, keys: readonly string[]): Recalled {
    const found: Record<string, RememberedTurn> = {};
    const now = this.#now();
    for (const key of keys) {
      const id = entryId(scope, key);
      const entry = this.#entries.get(id);
      if (entry === undefined) continue;
      this.#drop(id);
      if (entry.expiresAt <= now) continue;
      // Used again: to the end of the recency order.
      this.#entries.set(id, entry);
      this.#chars += entry.chars;
      found[key] = entry.turn;
    }
    return found;
  }

  #drop(id: string): void {
    const entry = this.#entries.get(id);
    if (entry === undefined) return;
    this.#entries.delete(id);
    this.#chars -= entry.chars;
  }

  /** Expired turns at the old end go first, then the least recently used until within the caps. */
  #evict(): void {
    const now = this.#now();
    for (const [id, entry] of this.#entries) {
      const over = this.#chars > this.#limits.maxChars || this.#entries.size > this.#limits.maxTurns;
      if (!over && entry.expiresAt > now) return;
      this.#drop(id);
    }
  }
}

/** The scope first and a separator neither can hold: one caller's keys never meet another's. */
function entryId(scope: string, key: string): string {
  return `${scope}\u0000${key}`;
}

// Remembered signed reasoning across `workers: N` (issue 20): the primary holds the node's one
// ReasoningStore and workers reach it over the cluster IPC channel, so a tool loop's next turn finds
// its reasoning whichever worker takes it. A worker keeps nothing itself; when the primary does not
// answer in time the turn goes upstream without the reasoning, and the upstream's own refusal
// reaches the client — never another turn's reasoning.

import type { Worker } from 'node:cluster';
import { log } from '../log.ts';
import type { Protocol } from '../protocols/names.ts';
import type { SignedTurn } from '../protocols/signed-reasoning.ts';
import type { ReasoningMemory, ReasoningStore, Recalled } from './reasoning-memory.ts';

/** Every message carries this tag, so it never meets cluster's own or another service's. */
const TAG = 'busbar-reasoning';
/** A recall unanswered by then answers nothing: the request does not wait longer for the primary. */
export const RECALL_MS = 1000;
/** Recalls awaiting the primary at once; past this a recall answers nothing at once. */
export const MAX_PENDING_RECALLS = 4096;

type ToPrimary =
  | { tag: typeof TAG; kind: 'remember'; scope: string; turn: SignedTurn; upstream: Protocol }
  | { tag: typeof TAG; kind: 'recall'; id: number; scope: string; keys: readonly string[] };
type ToWorker = { tag: typeof TAG; kind: 'recalled'; id: number; found: Recalled };

function isTagged(m: unknown): m is { tag: typeof TAG; kind: string } {
  return typeof m === 'object' && m !== null && (m as { tag?: unknown }).tag === TAG;
}

/** The worker's end of the IPC channel (the process itself; a test passes its own). */
export interface WorkerChannel {
  send(message: ToPrimary): boolean;
  onMessage(listener: (message: unknown) => void): void;
  readonly connected: boolean;
}

const processChannel: WorkerChannel = {
  send: (message) => process.send?.(message) ?? false,
  onMessage: (listener) => process.on('message', listener),
  get connected() {
    return process.connected === true;
  },
};

const NOTHING: Recalled = Object.freeze({});

/** Worker side: remembers through the primary and asks it on recall. */
export class RemoteReasoningMemory implements ReasoningMemory {
  readonly #channel: WorkerChannel;
  readonly #waitMs: number;
  readonly #pending = new Map<number, (found: Recalled) => void>();
  #next = 1;

  constructor(channel: WorkerChannel = processChannel, waitMs = RECALL_MS) {
    this.#channel = channel;
    this.#waitMs = waitMs;
    channel.onMessage((m) => {
      if (!isTagged(m) || m.kind !== 'recalled') return;
      const msg = m as ToWorker;
      this.#pending.get(msg.id)?.(msg.found);
    });
  }

  remember(scope: string, turn: SignedTurn, upstream: Protocol): void {
    if (this.#channel.connected) this.#channel.send({ tag: TAG, kind: 'remember', scope, turn, upstream });
  }

  recall(scope: string, keys: readonly string[]): Promise<Recalled> {
    if (!this.#channel.connected || this.#pending.size >= MAX_PENDING_RECALLS)
      return Promise.resolve(NOTHING);
    const id = this.#next++;
    return new Promise((resolve) => {
      const settle = (found: Recalled): void => {
        clearTimeout(timer);
        this.#pending.delete(id);
        resolve(found);
      };
      const timer = setTimeout(() => {
        log.debug({ waitedMs: this.#waitMs }, 'remembered reasoning: the primary did not answer');
        settle(NOTHING);
      }, this.#waitMs);
      this.#pending.set(id, settle);
      if (!this.#channel.send({ tag: TAG, kind: 'recall', id, scope, keys })) settle(NOTHING);
    });
  }
}

/** Primary side: keeps what workers remember and answers their recalls from `store`. */
export function hostReasoningMemory(
  store: ReasoningStore,
  listen: (on: (worker: Worker, message: unknown) => void) => void,
): void {
  listen((worker, m) => {
    if (!isTagged(m)) return;
    const msg = m as ToPrimary;
    // Only our own workers write here; a malformed message is still dropped, never thrown in the primary.
    if (msg.kind === 'remember') {
      if (typeof msg.scope === 'string' && Array.isArray(msg.turn?.blocks))
        store.remember(msg.scope, msg.turn, msg.upstream);
      return;
    }
    if (msg.kind !== 'recall' || typeof msg.scope !== 'string' || !Array.isArray(msg.keys)) return;
    const found = store.recallNow(msg.scope, msg.keys);
    if (worker.isConnected())
      worker.send({ tag: TAG, kind: 'recalled', id: msg.id, found } satisfies ToWorker);
  });
}

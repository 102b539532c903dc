// Governance across `workers: N`: the primary runs the node's one Arbiter, and workers reach it over
// the cluster IPC channel, so budgets and RPM/TPM windows are exact for the whole node. Key changes
// are pushed to every worker's directory, and an admin call answers only once every worker has it.

import type { Worker } from 'node:cluster';
import { log } from '../log.ts';
import type {
  AdminAnswer,
  AdmitAsk,
  Arbiter,
  Authority,
  Minted,
  NewKey,
  Settlement,
  Verdict,
} from './arbiter.ts';
import { KeyDirectory, type KeySnapshot } from './directory.ts';
import type { KeyMetadata } from './keys.ts';
import type { KeyChanges, WindowUsage } from './store.ts';

/** Every message carries this tag, so it never meets cluster's own. */
const TAG = 'busbar-governance';
/** A reply later than this is treated as a store failure: a request never hangs on the primary. */
const REPLY_MS = 2000;

type Op =
  | { op: 'admit'; args: AdmitAsk }
  | { op: 'settle'; args: Settlement }
  | { op: 'mint'; args: NewKey }
  | { op: 'list'; args: null }
  | { op: 'update'; args: { id: string; changes: KeyChanges } }
  | { op: 'remove'; args: { id: string } }
  | { op: 'usage'; args: { id: string; nowMs: number } }
  | { op: 'snapshot'; args: null };

type ToPrimary = { tag: typeof TAG; id: number } & Op;
type ToWorker =
  | { tag: typeof TAG; kind: 'reply'; id: number; value: unknown }
  | { tag: typeof TAG; kind: 'snapshot'; ack: number; snapshot: KeySnapshot };

function isTagged(m: unknown): m is { tag: string } {
  return typeof m === 'object' && m !== null && (m as { tag?: unknown }).tag === TAG;
}

/** Worker side: the Authority, and the directory it keeps in step with the primary. */
export class RemoteAuthority implements Authority {
  readonly reserves = false;
  readonly directory = new KeyDirectory();
  readonly #failOpen: boolean;
  readonly #pending = new Map<number, (value: unknown) => void>();
  #next = 1;

  constructor(failOpen: boolean) {
    this.#failOpen = failOpen;
    process.on('message', (m: unknown) => {
      if (!isTagged(m)) return;
      const msg = m as ToWorker;
      if (msg.kind === 'reply') {
        this.#pending.get(msg.id)?.(msg.value);
        this.#pending.delete(msg.id);
      } else {
        this.directory.replace(msg.snapshot);
        process.send?.({ tag: TAG, kind: 'ack', ack: msg.ack });
      }
    });
  }

  /** Loads the current key set before the worker serves. */
  async start(): Promise<void> {
    const snapshot = await this.#call<KeySnapshot | undefined>({ op: 'snapshot', args: null }, undefined);
    if (snapshot === undefined)
      throw new Error('the governance arbiter in the primary process did not answer');
    this.directory.replace(snapshot);
  }

  #call<T>(op: Op, onTimeout: T): Promise<T> {
    const id = this.#next++;
    return new Promise<T>((resolve) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        resolve(onTimeout);
      }, REPLY_MS);
      this.#pending.set(id, (value) => {
        clearTimeout(timer);
        resolve(value as T);
      });
      process.send?.({ tag: TAG, id, ...op } satisfies ToPrimary);
    });
  }

  admit(ask: AdmitAsk): Promise<Verdict> {
    // No answer in time is a store failure (G-GOV-16): the operator's choice decides.
    const failed: Verdict = this.#failOpen
      ? { kind: 'admitted', window: -1, charged: false, headroom: null }
      : { kind: 'over_budget' };
    return this.#call<Verdict>({ op: 'admit', args: ask }, failed);
  }

  settle(settlement: Settlement): void {
    // Nothing the primary's arbiter would do (arbiter.ts): no message.
    if (settlement.refundFee === undefined && settlement.tokens === 0) return;
    process.send?.({ tag: TAG, id: 0, op: 'settle', args: settlement } satisfies ToPrimary);
  }

  mint(input: NewKey): Promise<AdminAnswer<Minted>> {
    return this.#call({ op: 'mint', args: input }, FAILED);
  }
  list(): Promise<AdminAnswer<KeyMetadata[]>> {
    return this.#call({ op: 'list', args: null }, FAILED);
  }
  update(id: string, changes: KeyChanges): Promise<AdminAnswer<KeyMetadata>> {
    return this.#call({ op: 'update', args: { id, changes } }, FAILED);
  }
  remove(id: string): Promise<AdminAnswer<string>> {
    return this.#call({ op: 'remove', args: { id } }, FAILED);
  }
  usage(id: string, nowMs: number): Promise<AdminAnswer<WindowUsage>> {
    return this.#call({ op: 'usage', args: { id, nowMs } }, FAILED);
  }
}

const FAILED = { ok: false, status: 500 } as const;

/** Primary side: answers every worker's calls and pushes key changes to all of them. */
export function hostArbiter(
  arbiter: Arbiter,
  workers: () => readonly Worker[],
  listen: (on: (worker: Worker, m: unknown) => void) => void,
): void {
  const acks = new Map<number, () => void>();
  let nextAck = 1;
  arbiter.onChange(async (snapshot) => {
    // Every live worker has the new key set before the admin call answers (bounded: a dying
    // worker cannot hold the call).
    await Promise.all(
      workers().map(
        (w) =>
          new Promise<void>((resolve) => {
            const ack = nextAck++;
            const timer = setTimeout(() => {
              acks.delete(ack);
              resolve();
            }, REPLY_MS);
            acks.set(ack, () => {
              clearTimeout(timer);
              resolve();
            });
            w.send({ tag: TAG, kind: 'snapshot', ack, snapshot } satisfies ToWorker);
          }),
      ),
    );
  });
  listen(async (worker, m) => {
    if (!isTagged(m)) return;
    const msg = m as ToPrimary | { tag: string; kind: 'ack'; ack: number };
    if ('kind' in msg) {
      acks.get(msg.ack)?.();
      acks.delete(msg.ack);
      return;
    }
    let value: unknown;
    try {
      value = await run(arbiter, msg);
    } catch (err) {
      log.error(
        { err: err instanceof Error ? err.message : String(err), op: msg.op },
        'governance call failed',
      );
      value = msg.op === 'admit' ? { kind: 'over_budget' } : FAILED;
    }
    if (msg.op !== 'settle' && worker.isConnected()) {
      worker.send({ tag: TAG, kind: 'reply', id: msg.id, value } satisfies ToWorker);
    }
  });
}

function run(arbiter: Arbiter, msg: ToPrimary): unknown {
  switch (msg.op) {
    case 'admit':
      return arbiter.admit(msg.args);
    case 'settle':
      return arbiter.settle(msg.args);
    case 'mint':
      return arbiter.mint(msg.args);
    case 'list':
      return arbiter.list();
    case 'update':
      return arbiter.update(msg.args.id, msg.args.changes);
    case 'remove':
      return arbiter.remove(msg.args.id);
    case 'usage':
      return arbiter.usage(msg.args.id, msg.args.nowMs);
    case 'snapshot':
      return arbiter.directory.snapshot();
    default: {
      const never: never = msg;
      throw new Error(`unknown governance op ${JSON.stringify(never)}`);
    }
  }
}

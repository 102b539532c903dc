// Many callers' store calls sent as one: calls made while a batch is in flight wait and go
// together in the next, so under load one round trip and one statement (or script) serve many
// requests, and an idle gateway still sends a lone call at once (after the current I/O turn).
// A store call's client-side cost is mostly per round trip, not per item (docs/benchmarks.md).
// Every wait is bounded here: a batch unanswered after `stallMs` fails its callers and frees its
// slot, so a hung connection holds no request longer than two stalls (queued, then sent).

/** Calls waiting beyond this are refused at once: a store that stopped must not grow memory. */
const MAX_QUEUED = 10_000;

interface Waiting<In, Out> {
  readonly item: In;
  readonly resolve: (out: Out) => void;
  readonly reject: (err: unknown) => void;
}

export class Batcher<In, Out> {
  readonly #send: (items: readonly In[]) => Promise<readonly Out[]>;
  readonly #max: number;
  readonly #stallMs: number;
  readonly #what: string;
  readonly #late: ((items: readonly In[], outs: readonly Out[]) => void) | undefined;
  #queue: Waiting<In, Out>[] = [];
  #inFlight = false;
  #scheduled = false;

  /**
   * `send` answers one output per input, in order (or rejects for the whole batch); one batch of at
   * most `max` items waits for the store at a time. `what` names the store in errors. `late`
   * receives the answer of a batch whose callers were already failed (to undo what it did).
   */
  constructor(
    send: (items: readonly In[]) => Promise<readonly Out[]>,
    max: number,
    stallMs: number,
    what: string,
    late?: (items: readonly In[], outs: readonly Out[]) => void,
  ) {
    this.#send = send;
    this.#max = max;
    this.#stallMs = stallMs;
    this.#what = what;
    this.#late = late;
  }

  submit(item: In): Promise<Out> {
    if (this.#queue.length >= MAX_QUEUED) {
      return Promise.reject(new Error(`${this.#what}: too many calls waiting for an answer`));
    }
    return new Promise<Out>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#scheduled || this.#inFlight || this.#queue.length === 0) return;
    this.#scheduled = true;
    // After the I/O turn that queued it: the other requests read in the same turn join it.
    setImmediate(this.#flush);
  }

  readonly #flush = (): void => {
    this.#scheduled = false;
    if (this.#inFlight || this.#queue.length === 0) return;
    const batch = this.#queue.length <= this.#max ? this.#queue : this.#queue.slice(0, this.#max);
    this.#queue = this.#queue.length <= this.#max ? [] : this.#queue.slice(this.#max);
    this.#inFlight = true;
    let done = false;
    const finish = (outs: readonly Out[] | undefined, err: unknown): void => {
      if (done) {
        if (outs !== undefined)
          this.#late?.(
            batch.map((w) => w.item),
            outs,
          );
        return;
      }
      done = true;
      clearTimeout(stall);
      for (let i = 0; i < batch.length; i++) {
        if (outs === undefined) batch[i]!.reject(err);
        else batch[i]!.resolve(outs[i]!);
      }
      this.#inFlight = false;
      this.#schedule();
    };
    const stall = setTimeout(
      () => finish(undefined, new Error(`${this.#what} did not answer within ${this.#stallMs} ms`)),
      this.#stallMs,
    );
    let sent: Promise<readonly Out[]>;
    try {
      sent = this.#send(batch.map((w) => w.item));
    } catch (err) {
      sent = Promise.reject(err);
    }
    sent.then(
      (outs) => finish(outs, undefined),
      (err: unknown) => finish(undefined, err),
    );
  };
}

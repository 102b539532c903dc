// The usage tap (P-USE): token usage read from any protocol's answer, streamed or buffered, as
// the bytes pass. It reads a copy; it never delays or alters what the client receives.

import { CODECS } from './codecs.ts';
import type { JsonValue, StopReason, StreamEvent, Usage } from './ir.ts';
import type { Protocol } from './names.ts';

/** A buffered body is scanned whole up to this size, so usage at its tail is never lost (P-USE-2). */
const MAX_SCANNED_BODY = 32 * 1024 * 1024;

/** What an answer said about itself besides usage (trace attributes): its model and why it stopped. */
export interface AnswerFacts {
  readonly model: string | undefined;
  readonly stopReason: StopReason | undefined;
}

const NO_FACTS: AnswerFacts = Object.freeze({ model: undefined, stopReason: undefined });

/** Folds stream events into the final usage: input from the start, output (and any totals) from the end. */
export class UsageAccumulator {
  #input = 0;
  #output = 0;
  #seen = false;
  #failed = false;
  #model: string | undefined;
  #stopReason: StopReason | undefined;

  add(event: StreamEvent): void {
    if (event.type === 'error') this.#failed = true;
    if (event.type === 'message_start' && event.model !== '') this.#model = event.model;
    else if (event.type === 'message_delta') this.#stopReason = event.stopReason;
    if ((event.type === 'message_start' || event.type === 'message_delta') && event.usage !== undefined) {
      if (event.usage.inputTokens > 0 || event.type === 'message_start')
        this.#input = event.usage.inputTokens;
      if (event.usage.outputTokens > 0 || event.type === 'message_delta')
        this.#output = event.usage.outputTokens;
      this.#seen = true;
    }
  }

  /** Usage of a stream that ended cleanly; undefined when none was reported or the stream failed. */
  result(): Usage | undefined {
    return this.#seen && !this.#failed ? { inputTokens: this.#input, outputTokens: this.#output } : undefined;
  }

  facts(): AnswerFacts {
    return { model: this.#model, stopReason: this.#stopReason };
  }
}

export class UsageTap {
  readonly #protocol: Protocol;
  readonly #reader: ReturnType<(typeof CODECS)[Protocol]['newStreamReader']> | undefined;
  readonly #events = new UsageAccumulator();
  readonly #chunks: Buffer[] = [];
  #size = 0;
  readonly #wantFacts: boolean;
  #facts: AnswerFacts = NO_FACTS;
  readonly #usageOf: (body: JsonValue) => Usage | undefined;

  /**
   * `wantFacts`: also read a whole answer's model and stop reason (traces). `usageOf` reads a whole
   * answer's usage where it is not a chat answer (embeddings, rerank).
   */
  constructor(
    protocol: Protocol,
    stream: boolean,
    wantFacts = false,
    usageOf?: (body: JsonValue) => Usage | undefined,
  ) {
    this.#protocol = protocol;
    this.#usageOf = usageOf ?? CODECS[protocol].usageFromResponse;
    this.#reader = stream ? CODECS[protocol].newStreamReader({ tally: true, facts: wantFacts }) : undefined;
    this.#wantFacts = wantFacts;
  }

  /** The answer's model and stop reason, once `finish` has run. */
  get facts(): AnswerFacts {
    return this.#reader === undefined ? this.#facts : this.#events.facts();
  }

  readonly push = (chunk: Buffer): void => {
    if (this.#reader !== undefined) {
      const events = this.#reader.push(chunk);
      for (let i = 0; i < events.length; i++) this.#events.add(events[i]!);
      return;
    }
    this.#size += chunk.length;
    if (this.#size <= MAX_SCANNED_BODY) this.#chunks.push(chunk);
  };

  /** Usage once the body has ended cleanly. */
  finish(): Usage | undefined {
    if (this.#reader !== undefined) {
      for (const event of this.#reader.end()) this.#events.add(event);
      return this.#events.result();
    }
    if (this.#size > MAX_SCANNED_BODY) return undefined;
    let body: JsonValue;
    try {
      const chunks = this.#chunks;
      const whole = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, this.#size);
      body = JSON.parse(whole.toString()) as JsonValue;
    } catch {
      return undefined;
    }
    if (this.#wantFacts) {
      try {
        const facts = CODECS[this.#protocol].answerFacts(body);
        this.#facts = { model: facts.model === '' ? undefined : facts.model, stopReason: facts.stopReason };
      } catch {
        // An answer the reader cannot take still has its usage counted below.
      }
    }
    try {
      return this.#usageOf(body);
    } catch {
      return undefined;
    }
  }
}

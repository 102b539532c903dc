// Stop sequences toward an upstream that has no stop field (issue 20, item 1): the gateway cuts the
// answer before the first occurrence of any of them and reports a `stop_sequence` stop, as the
// client's own provider would. Streams hold back only the longest sequence minus one character.

import { InvalidRequest } from './expect.ts';
import type { ContentBlock, Response, StreamEvent } from './ir.ts';

/** What the gateway will search every delta for: a bound on the work one request can ask for. */
export const MAX_EMULATED_STOPS = 16;
export const MAX_EMULATED_STOP_CHARS = 1000;

/** The stop sequences, when the gateway can enforce them; a request asking for more is refused. */
export function emulatedStops(stops: readonly string[]): readonly string[] {
  if (stops.length > MAX_EMULATED_STOPS || stops.some((s) => s.length > MAX_EMULATED_STOP_CHARS))
    throw new InvalidRequest(
      `stop: this upstream has no stop sequences, and the gateway enforces at most ${MAX_EMULATED_STOPS} of at most ${MAX_EMULATED_STOP_CHARS} characters each`,
    );
  return stops;
}

/** The earliest match of any sequence in `text` (the longest one when two start together). */
function firstMatch(text: string, stops: readonly string[]): { at: number; stop: string } | undefined {
  let best: { at: number; stop: string } | undefined;
  for (const stop of stops) {
    if (stop === '') continue;
    const at = text.indexOf(stop);
    if (at < 0) continue;
    if (best === undefined || at < best.at || (at === best.at && stop.length > best.stop.length))
      best = { at, stop };
  }
  return best;
}

/** A cut at `at` never splits a surrogate pair (a lone half cannot be encoded as UTF-8). */
function safeCut(text: string, at: number): number {
  const code = text.charCodeAt(at - 1);
  return at > 0 && code >= 0xd800 && code <= 0xdbff ? at - 1 : at;
}

/**
 * A whole answer cut before the first stop sequence in its text: later blocks are dropped and the
 * stop reason becomes `stop_sequence`. An answer without a match comes back unchanged.
 */
export function cutAnswerAtStop(res: Response, stops: readonly string[]): Response {
  for (let i = 0; i < res.content.length; i++) {
    const block = res.content[i]!;
    if (block.type !== 'text') continue;
    const match = firstMatch(block.text, stops);
    if (match === undefined) continue;
    const kept: ContentBlock[] = res.content.slice(0, i);
    if (match.at > 0) kept.push({ ...block, text: block.text.slice(0, match.at) });
    return { ...res, content: kept, stopReason: 'stop_sequence', stopSequence: match.stop };
  }
  return res;
}

/**
 * Watches a translated stream's text for stop sequences. `push` returns the events to write; once
 * a sequence matched, the answer is complete (`stopped`), ending with the stop events, and the
 * caller closes the upstream.
 */
export class StopCutter {
  readonly #stops: readonly string[];
  /** Characters held back: a sequence may start in them and end in text not yet seen. */
  readonly #hold: number;
  /** The text block whose held-back tail is `#pending`. */
  #index = -1;
  #pending = '';
  stopped = false;

  constructor(stops: readonly string[]) {
    this.#stops = stops.filter((s) => s !== '');
    this.#hold = Math.max(0, Math.max(0, ...this.#stops.map((s) => s.length)) - 1);
  }

  get active(): boolean {
    return this.#stops.length > 0;
  }

  push(event: StreamEvent): StreamEvent[] {
    if (this.stopped) return [];
    if (event.type !== 'text_delta') {
      // Anything else ends the text run: what was held back goes out first.
      const out = this.#flush();
      out.push(event);
      return out;
    }
    const out = event.index === this.#index ? [] : this.#flush();
    this.#index = event.index;
    const text = this.#pending + event.text;
    const match = firstMatch(text, this.#stops);
    if (match !== undefined) {
      this.stopped = true;
      this.#pending = '';
      if (match.at > 0) out.push({ type: 'text_delta', index: event.index, text: text.slice(0, match.at) });
      out.push(
        { type: 'block_stop', index: event.index },
        { type: 'message_delta', stopReason: 'stop_sequence', stopSequence: match.stop },
        { type: 'message_stop' },
      );
      return out;
    }
    const cut = safeCut(text, Math.max(0, text.length - this.#hold));
    this.#pending = text.slice(cut);
    if (cut > 0) out.push({ type: 'text_delta', index: event.index, text: text.slice(0, cut) });
    return out;
  }

  #flush(): StreamEvent[] {
    if (this.#pending === '') return [];
    const out: StreamEvent[] = [{ type: 'text_delta', index: this.#index, text: this.#pending }];
    this.#pending = '';
    return out;
  }
}

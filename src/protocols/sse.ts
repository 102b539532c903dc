// Server-sent events framing shared by every SSE protocol: an incremental parser (bytes → frames)
// and an encoder (frame → text). Follows the WHATWG event-stream rules that providers rely on.

export interface SseFrame {
  /** The `event:` field, when the frame had one. */
  readonly event?: string;
  /** The `data:` lines joined with `\n`. */
  readonly data: string;
}

/** Largest pending line plus frame data the parser holds before it gives up (16 MiB). */
export const DEFAULT_SSE_MAX_BUFFER = 16 * 1024 * 1024;

/**
 * Incremental SSE parser. Accepts `\n`, `\r\n` and `\r` line ends (also split across chunks), multi-line
 * `data:`, `event:`, comments and UTF-8 sequences split across chunks. Never throws: when a frame grows
 * past `maxBuffer` it sets `overflowed` and ignores everything after.
 */
export class SseParser {
  /** Made for the first chunk that ends inside a UTF-8 sequence; until then chunks decode whole. */
  #decoder: InstanceType<typeof TextDecoder> | undefined;
  #pending = '';
  #skipLf = false;
  #started = false;
  #event: string | undefined;
  #data: string[] = [];
  #dataSize = 0;
  #maxBuffer: number;
  /** Set once a frame exceeded the buffer bound; the stream cannot be trusted after that. */
  overflowed = false;

  constructor(maxBuffer = DEFAULT_SSE_MAX_BUFFER) {
    this.#maxBuffer = maxBuffer;
  }

  /**
   * Between events: nothing of a line, an event or a UTF-8 sequence is held, so a chunk of whole
   * events may be judged on its own.
   */
  get idle(): boolean {
    return (
      this.#pending === '' &&
      this.#data.length === 0 &&
      this.#event === undefined &&
      !this.#skipLf &&
      !this.overflowed
    );
  }

  push(chunk: Uint8Array | string): SseFrame[] {
    if (this.overflowed) return [];
    let text = typeof chunk === 'string' ? chunk : this.#decode(chunk);
    if (!this.#started && text.length > 0) {
      this.#started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    return this.#scan(text);
  }

  /** The stream ended: a final frame without its blank line is still delivered. */
  end(): SseFrame[] {
    if (this.overflowed) return [];
    const frames = this.#scan(this.#decoder?.decode() ?? '');
    if (this.#pending !== '') {
      this.#line(this.#pending, frames);
      this.#pending = '';
    }
    this.#dispatch(frames);
    return frames;
  }

  /**
   * UTF-8 text of `chunk`. Most chunks end on a character boundary (an event ends with LF): those
   * are decoded on their own, without a streaming decoder and the bytes it would hold back. As the
   * decoder would, a byte order mark at the stream's first byte is dropped (the event-stream rule
   * drops one more from the text: `push`).
   */
  #decode(chunk: Uint8Array): string {
    if (this.#decoder === undefined) {
      const last = chunk[chunk.length - 1];
      if (last === undefined || last < 0x80) {
        const bom = !this.#started && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf ? 3 : 0;
        return Buffer.from(chunk.buffer, chunk.byteOffset + bom, chunk.byteLength - bom).toString('utf8');
      }
      // Made before any text came, it sees the stream's start; made later, a BOM is only a character.
      this.#decoder = new TextDecoder('utf-8', { ignoreBOM: this.#started });
    }
    return this.#decoder.decode(chunk, { stream: true });
  }

  #scan(input: string): SseFrame[] {
    const frames: SseFrame[] = [];
    let text = input;
    if (this.#skipLf && text.length > 0) {
      if (text.charCodeAt(0) === 10) text = text.slice(1);
      this.#skipLf = false;
    }
    let start = 0;
    // Most providers end lines with LF alone: then the native search jumps from line to line.
    if (text.indexOf('\r') === -1) {
      for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', start)) {
        this.#endLine(text, start, i, frames);
        if (this.overflowed) return frames;
        start = i + 1;
      }
    } else {
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (c !== 10 && c !== 13) continue;
        this.#endLine(text, start, i, frames);
        if (this.overflowed) return frames;
        if (c === 13) {
          if (i + 1 < text.length) {
            if (text.charCodeAt(i + 1) === 10) i++;
          } else {
            this.#skipLf = true;
          }
        }
        start = i + 1;
      }
    }
    this.#pending += text.slice(start);
    if (this.#pending.length + this.#dataSize > this.#maxBuffer) this.#overflow();
    return frames;
  }

  /** The line `text[start, end)`, after what was pending from earlier chunks. */
  #endLine(text: string, start: number, end: number, frames: SseFrame[]): void {
    const line = this.#pending === '' ? text.slice(start, end) : this.#pending + text.slice(start, end);
    this.#pending = '';
    this.#line(line, frames);
  }

  #line(line: string, frames: SseFrame[]): void {
    if (line === '') {
      this.#dispatch(frames);
      return;
    }
    if (line.charCodeAt(0) === 58) return; // ':' comment (keep-alives)
    const colon = line.indexOf(':');
    const name = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (name === 'data') {
      this.#data.push(value);
      this.#dataSize += value.length + 1;
      if (this.#dataSize > this.#maxBuffer) this.#overflow();
    } else if (name === 'event') {
      this.#event = value;
    }
    // `id` and `retry` carry nothing the gateway uses; unknown fields are ignored per the spec.
  }

  #dispatch(frames: SseFrame[]): void {
    if (this.#data.length > 0) {
      const data = this.#data.join('\n');
      frames.push(this.#event === undefined || this.#event === '' ? { data } : { event: this.#event, data });
    }
    this.#event = undefined;
    this.#data = [];
    this.#dataSize = 0;
  }

  #overflow(): void {
    this.overflowed = true;
    this.#pending = '';
    this.#data = [];
    this.#dataSize = 0;
    this.#event = undefined;
  }
}

/** One SSE frame: optional `event:` line, one `data:` line per line of `data`, blank line. */
export function encodeSse(data: string, event?: string): string {
  const head = event === undefined ? '' : `event: ${event}\n`;
  return `${head}data: ${data.split(/\r\n|\r|\n/).join('\ndata: ')}\n\n`;
}

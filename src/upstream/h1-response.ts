// Reads HTTP/1.1 responses off an upstream connection, strictly: a hostile or broken upstream gets
// an error, never a guess. Heads are capped (64 KiB), 1xx heads skipped, bodies framed by
// content-length, chunked transfer-coding or the connection's close; every other
// transfer-coding, a length beside a transfer-coding, a bad header byte or folded line, and
// anything malformed inside a chunked body are errors. Body bytes are handed on as slices of what
// the socket read: nothing is copied or buffered but a partial head or chunk-size line.

import type { IncomingHttpHeaders } from 'node:http';
import { UpstreamError } from './dispatch.ts';
import { headerMap } from './relay-headers.ts';

const MAX_HEAD_BYTES = 64 * 1024;
/** A chunk-size line, extensions included. */
const MAX_CHUNK_LINE_BYTES = 4096;
const MAX_TRAILER_BYTES = 16 * 1024;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Control bytes other than tab (CR and LF included: a bare one inside a head is malformed). */
const BAD_VALUE_BYTE = /[\x00-\x08\x0a-\x1f\x7f]/;
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-5][0-9][0-9])(?: [^\x00-\x08\x0a-\x1f\x7f]*)?$/;
const HEX_SIZE = /^[0-9A-Fa-f]{1,12}$/;
const DIGITS = /^[0-9]{1,15}$/;
const CRLFCRLF = Buffer.from('\r\n\r\n');

export interface ResponseHead {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The connection may carry another exchange after this one. */
  readonly keepAlive: boolean;
  /** The upstream's `keep-alive: timeout=N`, in ms. */
  readonly keepAliveHintMs: number | undefined;
}

export interface ResponseEvents {
  /** The final head (after any 1xx). */
  onHead(head: ResponseHead): void;
  /** A body slice; false stops parsing after it (paused or aborted). */
  onBody(chunk: Buffer): boolean;
  onEnd(): void;
}

const HEAD = 0;
const LENGTH = 1;
const CHUNK_SIZE = 2;
const CHUNK_DATA = 3;
const CHUNK_DATA_END = 4;
const TRAILERS = 5;
const UNTIL_CLOSE = 6;
/** The body is complete; `onEnd` has not been called yet (the consumer paused on the last slice). */
const END = 7;
const DONE = 8;

export class ResponseParser {
  readonly #events: ResponseEvents;
  #state = HEAD;
  /** Body bytes left: of the whole body (LENGTH) or of the current chunk (CHUNK_DATA). */
  #remaining = 0;
  /** Pieces of a head or line that arrived split across reads, joined once it is whole. */
  #parts: Buffer[] | undefined;
  #partsSize = 0;
  /** Bytes of the CRLF after a chunk's data seen so far. */
  #crlf = 0;
  #trailerBytes = 0;
  /** The connection closed: a body framed by the close ends when its bytes are through. */
  #eof = false;

  constructor(events: ResponseEvents) {
    this.#events = events;
  }

  /** The response is whole and `onEnd` has been called. */
  get done(): boolean {
    return this.#state === DONE;
  }

  /** Between two exchanges: nothing of a response has arrived. */
  get idle(): boolean {
    return this.#state === HEAD && this.#parts === undefined;
  }

  /** Ready for the next response on the same connection. */
  reset(): void {
    this.#state = HEAD;
    this.#remaining = 0;
    this.#parts = undefined;
    this.#partsSize = 0;
    this.#crlf = 0;
    this.#trailerBytes = 0;
  }

  /** The connection closed. True when that ends the body (a body framed by the close). */
  eof(): boolean {
    this.#eof = true;
    return this.#state === UNTIL_CLOSE || this.#state === END || this.#state === DONE;
  }

  /**
   * Parses from `buf`; returns how many bytes were used. Fewer than `buf.length` means the
   * response ended there or the consumer stopped (`onBody` false); call again with the rest.
   */
  execute(buf: Buffer): number {
    let at = 0;
    const n = buf.length;
    for (;;) {
      const state = this.#state;
      if (state === END) {
        this.#state = DONE;
        this.#events.onEnd();
        return at;
      }
      if (state === DONE) return at;
      if (at >= n) {
        if (state === UNTIL_CLOSE && this.#eof) {
          this.#state = END;
          continue;
        }
        return at;
      }
      switch (state) {
        case HEAD:
          at = this.#readHead(buf, at);
          break;
        case LENGTH:
        case CHUNK_DATA: {
          const take = Math.min(this.#remaining, n - at);
          const chunk = buf.subarray(at, at + take);
          at += take;
          this.#remaining -= take;
          if (this.#remaining === 0) this.#state = state === LENGTH ? END : CHUNK_DATA_END;
          if (!this.#events.onBody(chunk)) return at;
          break;
        }
        case UNTIL_CLOSE: {
          const chunk = at === 0 ? buf : buf.subarray(at);
          at = n;
          if (!this.#events.onBody(chunk)) return at;
          break;
        }
        case CHUNK_DATA_END: {
          const byte = buf[at++];
          if (byte !== (this.#crlf === 0 ? 13 : 10)) throw malformed('no CRLF after a chunk');
          if (++this.#crlf === 2) {
            this.#crlf = 0;
            this.#state = CHUNK_SIZE;
          }
          break;
        }
        case CHUNK_SIZE:
          at = this.#readChunkSize(buf, at);
          break;
        case TRAILERS:
          at = this.#readTrailers(buf, at);
          break;
      }
    }
  }

  /** Keeps a piece of an unfinished head or line; past `cap` bytes in all it is an error. */
  #keep(piece: Buffer, cap: number, what: string): void {
    this.#partsSize += piece.length;
    if (this.#partsSize > cap) throw malformed(`${what} too long`);
    if (this.#parts === undefined) this.#parts = [piece];
    else this.#parts.push(piece);
  }

  /** The kept pieces and `last` as one buffer (a copy only when there were pieces). */
  #joined(last: Buffer): Buffer {
    const parts = this.#parts;
    if (parts === undefined) return last;
    this.#parts = undefined;
    this.#partsSize = 0;
    parts.push(last);
    return Buffer.concat(parts);
  }

  /** A line up to its CRLF, joined with what came before; undefined = not whole yet. */
  #line(buf: Buffer, at: number, cap: number, what: string): { text: string; next: number } | undefined {
    const lf = buf.indexOf(10, at);
    if (lf < 0) {
      this.#keep(buf.subarray(at), cap, what);
      return undefined;
    }
    if (this.#partsSize + lf + 1 - at > cap) throw malformed(`${what} too long`);
    const line = this.#joined(buf.subarray(at, lf + 1));
    if (line.length < 2 || line[line.length - 2] !== 13) throw malformed(`bare LF in a ${what}`);
    return { text: line.toString('latin1', 0, line.length - 2), next: lf + 1 };
  }

  #readChunkSize(buf: Buffer, at: number): number {
    // Most size lines are bare hex digits and CRLF, whole in this read: taken from the bytes.
    if (this.#parts === undefined) {
      let size = 0;
      let i = at;
      for (; i < buf.length && i - at < 12; i++) {
        const digit = hexDigit(buf[i]!);
        if (digit < 0) break;
        size = size * 16 + digit;
      }
      if (i > at && buf[i] === 13 && buf[i + 1] === 10) {
        this.#remaining = size;
        this.#state = size === 0 ? TRAILERS : CHUNK_DATA;
        return i + 2;
      }
    }
    const line = this.#line(buf, at, MAX_CHUNK_LINE_BYTES, 'chunk-size line');
    if (line === undefined) return buf.length;
    const semi = line.text.indexOf(';');
    const size = trimOws(semi < 0 ? line.text : line.text.slice(0, semi));
    if (!HEX_SIZE.test(size)) throw malformed('bad chunk size');
    this.#remaining = Number.parseInt(size, 16);
    this.#state = this.#remaining === 0 ? TRAILERS : CHUNK_DATA;
    return line.next;
  }

  /** Trailer fields are read and dropped; an empty line ends the response. */
  #readTrailers(buf: Buffer, at: number): number {
    const line = this.#line(buf, at, MAX_TRAILER_BYTES, 'trailer section');
    if (line === undefined) return buf.length;
    this.#trailerBytes += line.text.length + 2;
    if (this.#trailerBytes > MAX_TRAILER_BYTES) throw malformed('trailer section too long');
    if (line.text === '') this.#state = END;
    else if (BAD_VALUE_BYTE.test(line.text)) throw malformed('bad byte in a trailer');
    return line.next;
  }

  #readHead(buf: Buffer, at: number): number {
    let next = -1;
    if (this.#parts === undefined) {
      const i = buf.indexOf(CRLFCRLF, at);
      if (i >= 0) next = i + 4;
    } else {
      // The blank line may straddle the two reads: look at the kept tail and the new head first.
      const tail = lastBytes(this.#parts, 3);
      const i = Buffer.concat([tail, buf.subarray(at, at + 3)]).indexOf(CRLFCRLF);
      if (i >= 0) next = at + i + 4 - tail.length;
      else {
        const j = buf.indexOf(CRLFCRLF, at);
        if (j >= 0) next = j + 4;
      }
    }
    if (next < 0) {
      this.#keep(buf.subarray(at), MAX_HEAD_BYTES, 'response head');
      return buf.length;
    }
    if (this.#partsSize + next - at > MAX_HEAD_BYTES) throw malformed('response head too long');
    const head = this.#joined(buf.subarray(at, next));
    this.#startBody(parseHead(head.toString('latin1', 0, head.length - 4)));
    return next;
  }

  #startBody(head: ParsedHead): void {
    const { status, headers } = head;
    if (status < 200) {
      if (status === 101) throw malformed('unexpected protocol switch');
      return; // informational: the real head follows
    }
    let keepAlive = head.keepAlive;
    const te = headers['transfer-encoding'];
    const cl = headers['content-length'];
    if (status === 204 || status === 304) {
      this.#state = END;
    } else if (te !== undefined) {
      if (cl !== undefined) throw malformed('both content-length and transfer-encoding');
      if (trimOws(String(te)).toLowerCase() !== 'chunked') throw malformed(`transfer-encoding '${te}'`);
      this.#state = CHUNK_SIZE;
    } else if (cl !== undefined) {
      this.#remaining = contentLength(cl);
      this.#state = this.#remaining === 0 ? END : LENGTH;
    } else {
      keepAlive = false;
      this.#state = UNTIL_CLOSE;
    }
    const hint = headers['keep-alive'];
    const seconds = typeof hint === 'string' ? /timeout\s*=\s*(\d{1,9})/i.exec(hint)?.[1] : undefined;
    this.#events.onHead({
      status,
      headers,
      keepAlive,
      keepAliveHintMs: seconds === undefined ? undefined : Number(seconds) * 1000,
    });
  }
}

interface ParsedHead {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly keepAlive: boolean;
}

function parseHead(text: string): ParsedHead {
  const lines = text.split('\r\n');
  const statusLine = STATUS_LINE.exec(lines[0]!);
  if (statusLine === null) throw malformed('bad status line');
  const headers = headerMap();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0) throw malformed('bad header line');
    const name = headerName(line.slice(0, colon));
    const value = trimOws(line.slice(colon + 1));
    if (BAD_VALUE_BYTE.test(value)) throw malformed(`bad byte in header '${name}'`);
    const prev = headers[name];
    if (prev === undefined) headers[name] = name === 'set-cookie' ? [value] : value;
    else if (Array.isArray(prev)) prev.push(value);
    else headers[name] = [prev, value];
  }
  const connection = headers.connection;
  const tokens = connection === undefined ? '' : String(connection).toLowerCase();
  const keepAlive =
    statusLine[1] === '1' ? !/(?:^|[\s,])close(?:$|[\s,])/.test(tokens) : /keep-alive/.test(tokens);
  return { status: Number(statusLine[2]), headers: headers as IncomingHttpHeaders, keepAlive };
}

/** The value of one hex digit's byte, or -1. */
function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const lower = c | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

/** Header names as sent → lower-cased and checked: an upstream sends the same few every time. */
const NAMES = new Map<string, string>();
const MAX_NAMES = 256;

/** `raw` lower-cased, or a malformed-answer error when it is not a token. */
function headerName(raw: string): string {
  const known = NAMES.get(raw);
  if (known !== undefined) return known;
  const name = raw.toLowerCase();
  if (!TOKEN.test(name)) throw malformed('bad header line');
  if (NAMES.size < MAX_NAMES) NAMES.set(raw, name);
  return name;
}

/** One length, or a list of equal ones (a repeated header). */
/** Up to `n` last bytes of the pieces. */
function lastBytes(parts: readonly Buffer[], n: number): Buffer {
  const out: Buffer[] = [];
  let size = 0;
  for (let i = parts.length - 1; i >= 0 && size < n; i--) {
    const piece = parts[i]!;
    const take = Math.min(n - size, piece.length);
    out.unshift(piece.subarray(piece.length - take));
    size += take;
  }
  return Buffer.concat(out, size);
}

function contentLength(value: string | string[]): number {
  const parts = String(value).split(',');
  const first = trimOws(parts[0]!);
  for (const part of parts) {
    const v = trimOws(part);
    if (!DIGITS.test(v) || v !== first) throw malformed('bad content-length');
  }
  return Number(first);
}

/** Optional whitespace is space and tab only (trim() would also eat latin1's no-break space). */
function trimOws(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s.charCodeAt(a) === 32 || s.charCodeAt(a) === 9)) a++;
  while (b > a && (s.charCodeAt(b - 1) === 32 || s.charCodeAt(b - 1) === 9)) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

function malformed(detail: string): UpstreamError {
  return new UpstreamError('UPSTREAM_MALFORMED', `malformed upstream response: ${detail}`);
}

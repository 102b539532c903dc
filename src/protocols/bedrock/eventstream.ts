// `application/vnd.amazon.eventstream` framing (P-STR-6): binary frames with a length prelude,
// typed headers, a JSON payload and two CRC32s. Decoding reassembles frames split across chunks.

import { crc32 } from 'node:zlib';
import type { MessageHeaders } from '@smithy/eventstream-codec';
import { EventStreamCodec } from '@smithy/eventstream-codec';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8');
const codec = new EventStreamCodec(
  (bytes) => decoder.decode(bytes),
  (text) => encoder.encode(text),
);

/** Frames larger than this are refused rather than buffered (Bedrock frames are a few KiB). */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024;
/** Prelude (8) + prelude CRC (4) + message CRC (4). */
const MIN_FRAME_BYTES = 16;

export interface EventFrame {
  /** Header values rendered as strings (`:event-type`, `:message-type`, `:exception-type`, …). */
  readonly headers: Readonly<Record<string, string>>;
  readonly payload: string;
}

export function encodeFrame(headers: Readonly<Record<string, string>>, payload: string): Uint8Array {
  const typed: MessageHeaders = {};
  for (const [name, value] of Object.entries(headers)) typed[name] = { type: 'string', value };
  return codec.encode({ headers: typed, body: encoder.encode(payload) });
}

/** An event frame as Bedrock sends one. */
export function encodeEvent(eventType: string, payload: string): Uint8Array {
  return encodeFrame(
    { ':event-type': eventType, ':content-type': 'application/json', ':message-type': 'event' },
    payload,
  );
}

export function encodeException(exceptionType: string, payload: string): Uint8Array {
  return encodeFrame(
    { ':exception-type': exceptionType, ':content-type': 'application/json', ':message-type': 'exception' },
    payload,
  );
}

export type DecodeResult = { readonly frames: EventFrame[]; readonly error?: string };

/** Incremental frame decoder; after an error it stays failed and yields nothing more. */
export class FrameDecoder {
  #buf: Uint8Array = new Uint8Array(0);
  #failed = false;

  /** Bytes held that do not yet form a whole frame. */
  get pending(): number {
    return this.#buf.byteLength;
  }

  push(chunk: Uint8Array): DecodeResult {
    if (this.#failed) return { frames: [] };
    this.#buf = this.#buf.byteLength === 0 ? chunk.slice() : concat(this.#buf, chunk);
    const frames: EventFrame[] = [];
    while (this.#buf.byteLength >= 4) {
      const view = new DataView(this.#buf.buffer, this.#buf.byteOffset, this.#buf.byteLength);
      const total = view.getUint32(0, false);
      if (total < MIN_FRAME_BYTES || total > MAX_FRAME_BYTES)
        return this.#fail(frames, `bad frame length ${total}`);
      // The prelude has its own CRC: a corrupt length is caught before waiting for that many bytes.
      if (this.#buf.byteLength >= 12) {
        if (crc32(this.#buf.subarray(0, 8)) !== view.getUint32(8, false))
          return this.#fail(frames, 'bad prelude CRC');
        if (view.getUint32(4, false) > total - MIN_FRAME_BYTES)
          return this.#fail(frames, 'bad headers length');
      }
      if (this.#buf.byteLength < total) break;
      const bytes = this.#buf.slice(0, total);
      this.#buf = this.#buf.subarray(total);
      try {
        const message = codec.decode(bytes);
        const headers: Record<string, string> = {};
        for (const [name, header] of Object.entries(message.headers)) headers[name] = String(header.value);
        frames.push({ headers, payload: decoder.decode(message.body) });
      } catch (err) {
        return this.#fail(frames, err instanceof Error ? err.message : 'undecodable frame');
      }
    }
    return { frames };
  }

  #fail(frames: EventFrame[], error: string): DecodeResult {
    this.#failed = true;
    this.#buf = new Uint8Array(0);
    return { frames, error };
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a, 0);
  out.set(b, a.byteLength);
  return out;
}

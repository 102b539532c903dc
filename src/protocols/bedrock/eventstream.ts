// `application/vnd.amazon.eventstream` framing (P-STR-6): binary frames with a length prelude,
// typed headers, a JSON payload and two CRC32s. Decoding reassembles frames split across chunks.
// Written here on node:zlib's CRC32: the framing is a few dozen lines, and @smithy's codec pulled
// in @smithy/core (+12 MiB resident, measured) for them. The tests check both directions against
// @smithy's codec, which the AWS SDK uses.
//
// A frame: total length (u32), headers length (u32), CRC32 of those 8 bytes; the headers, each a
// name (u8 length + UTF-8), a type byte and a value; the payload; CRC32 of everything before it.

import { crc32 } from 'node:zlib';

const decoder = new TextDecoder('utf-8');

/** Frames larger than this are refused rather than buffered (Bedrock frames are a few KiB). */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024;
/** Prelude (8) + prelude CRC (4) + message CRC (4). */
const MIN_FRAME_BYTES = 16;

export interface EventFrame {
  /** Header values rendered as strings (`:event-type`, `:message-type`, `:exception-type`, …). */
  readonly headers: Readonly<Record<string, string>>;
  readonly payload: string;
}

/** Header value types (the framing's own numbering). */
const TYPE_STRING = 7;

/**
 * One frame with string-typed headers (all Bedrock sends). Built in a Buffer: small ones come from
 * Node's shared pool, where a Uint8Array past 64 bytes gets a backing store of its own (~0.7 µs).
 */
export function encodeFrame(headers: Readonly<Record<string, string>>, payload: string): Uint8Array {
  const fields: [Buffer, Buffer][] = [];
  let headersLength = 0;
  for (const [name, value] of Object.entries(headers)) {
    const field: [Buffer, Buffer] = [Buffer.from(name), Buffer.from(value)];
    fields.push(field);
    headersLength += 1 + field[0].length + 3 + field[1].length;
  }
  const body = Buffer.from(payload);
  const total = MIN_FRAME_BYTES + headersLength + body.length;
  // Every byte is written below: the prelude, each header, the payload and the CRC.
  const frame = Buffer.allocUnsafe(total);
  frame.writeUInt32BE(total, 0);
  frame.writeUInt32BE(headersLength, 4);
  frame.writeUInt32BE(crc32(frame.subarray(0, 8)), 8);
  let at = 12;
  for (const [name, value] of fields) {
    frame[at] = name.length;
    at += 1 + name.copy(frame, at + 1);
    frame[at] = TYPE_STRING;
    frame.writeUInt16BE(value.length, at + 1);
    at += 3 + value.copy(frame, at + 3);
  }
  body.copy(frame, at);
  frame.writeUInt32BE(crc32(frame.subarray(0, total - 4)), total - 4);
  return frame;
}

/** A header value as text; Bedrock's are strings, the other types are rendered for completeness. */
function headerValue(view: DataView, bytes: Uint8Array, type: number, at: number): [string, number] {
  switch (type) {
    case 0:
      return ['true', at];
    case 1:
      return ['false', at];
    case 2:
      return [String(view.getInt8(at)), at + 1];
    case 3:
      return [String(view.getInt16(at, false)), at + 2];
    case 4:
      return [String(view.getInt32(at, false)), at + 4];
    case 5:
      return [String(view.getBigInt64(at, false)), at + 8];
    case 6:
    case TYPE_STRING: {
      const length = view.getUint16(at, false);
      const value = bytes.subarray(at + 2, at + 2 + length);
      if (value.byteLength !== length) throw new Error('header value runs past the headers');
      return [type === 6 ? Buffer.from(value).toString('base64') : decoder.decode(value), at + 2 + length];
    }
    case 8:
      return [new Date(Number(view.getBigInt64(at, false))).toISOString(), at + 8];
    case 9: {
      const hex = Buffer.from(bytes.subarray(at, at + 16)).toString('hex');
      return [
        `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`,
        at + 16,
      ];
    }
    default:
      throw new Error(`unknown header type ${type}`);
  }
}

/** A whole frame whose prelude was checked: its headers and payload, or a thrown reason. */
function decodeFrame(frame: Uint8Array): EventFrame {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const total = frame.byteLength;
  if (crc32(frame.subarray(0, total - 4)) !== view.getUint32(total - 4, false))
    throw new Error('bad message CRC');
  const end = 12 + view.getUint32(4, false);
  const headers: Record<string, string> = {};
  let at = 12;
  while (at < end) {
    const nameLength = frame[at]!;
    const name = decoder.decode(frame.subarray(at + 1, at + 1 + nameLength));
    at += 1 + nameLength;
    if (at >= end) throw new Error('header runs past the headers');
    const [value, next] = headerValue(view, frame.subarray(0, end), frame[at]!, at + 1);
    if (next > end) throw new Error('header value runs past the headers');
    headers[name] = value;
    at = next;
  }
  return { headers, payload: decoder.decode(frame.subarray(end, total - 4)) };
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
    // Our own copy (pooled Buffers), never written to: frames are read from it in place.
    this.#buf = this.#buf.byteLength === 0 ? Buffer.from(chunk) : Buffer.concat([this.#buf, chunk]);
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
      const bytes = this.#buf.subarray(0, total);
      this.#buf = this.#buf.subarray(total);
      try {
        frames.push(decodeFrame(bytes));
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

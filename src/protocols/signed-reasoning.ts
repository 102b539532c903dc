// Signed reasoning across a tool loop (issue 20): with thinking on, Anthropic (and Claude on Bedrock)
// refuse the assistant turn that continues a tool loop unless it starts with the signed thinking
// they answered with. A client whose protocol has no place for the signature loses it. This module
// says which protocols those are, what of an answer is worth remembering, and where remembered
// reasoning goes back into a request; it works on the IR only. The memory itself is
// lifecycle/reasoning-memory.ts.

import type {
  ContentBlock,
  JsonObject,
  Message,
  RedactedThinkingBlock,
  Request,
  StreamEvent,
  ThinkingBlock,
} from './ir.ts';
import { field, str } from './json-access.ts';
import type { Protocol } from './names.ts';
import { toolIdStem } from './tool-ids.ts';

/** Reasoning an upstream can verify: a thinking block with its signature, or a redacted one. */
export type SignedBlock = (ThinkingBlock & { readonly signature: string }) | RedactedThinkingBlock;

/** One answer's signed reasoning, keyed by the stem of its first tool call's id (tool-ids.ts). */
export interface SignedTurn {
  readonly key: string;
  readonly blocks: readonly SignedBlock[];
}

/** Remembered reasoning by turn key, as a translation job carries it (structured-cloneable). */
export type RestoredReasoning = Readonly<Record<string, readonly SignedBlock[]>>;

/**
 * A turn's reasoning is remembered only up to this many characters (text, signatures and redacted
 * data together); a longer one is not remembered at all, since half a signed block is worthless.
 */
export const MAX_SIGNED_TURN_CHARS = 1024 * 1024;
/** At most this many assistant turns of one request are looked up. */
export const MAX_TURNS_LOOKED_UP = 8;

/**
 * How a client of each protocol hands signed reasoning back on its next turn: in a field of the
 * protocol (`native`), in an extension field its client libraries may drop (`extension`: OpenAI
 * Chat's `reasoning_details`), or not at all (`none`).
 */
const CLIENT_CARRIES: Readonly<Record<Protocol, 'native' | 'extension' | 'none'>> = {
  openai: 'extension',
  responses: 'native',
  anthropic: 'native',
  gemini: 'native',
  cohere: 'none',
  bedrock: 'native',
};

const thinkingType = (value: unknown): boolean => value === 'enabled' || value === 'adaptive';

/**
 * The upstream protocols that refuse a tool loop continued without their signed reasoning, each
 * with how its written body says that thinking is on.
 */
const DEMANDS_SIGNED_TURN: Partial<Record<Protocol, (body: JsonObject) => boolean>> = {
  anthropic: (body) => thinkingType(str(field(body.thinking, 'type'))),
  bedrock: (body) => thinkingType(str(field(field(body.additionalModelRequestFields, 'thinking'), 'type'))),
};

/** Whether a client of `ingress` may come back without the signatures it was given. */
export function clientMayDropSignatures(ingress: Protocol): boolean {
  return CLIENT_CARRIES[ingress] !== 'native';
}

/** Whether answers of `upstream` are worth remembering: it is one that demands them back. */
export function signsToolTurns(upstream: Protocol): boolean {
  return DEMANDS_SIGNED_TURN[upstream] !== undefined;
}

/** Whether the body written for `upstream` makes it demand the signed reasoning of a tool loop. */
function demandsSignedTurn(upstream: Protocol, written: JsonObject): boolean {
  return DEMANDS_SIGNED_TURN[upstream]?.(written) ?? false;
}

function isSigned(b: ContentBlock): b is SignedBlock {
  return (
    (b.type === 'thinking' && b.signature !== undefined && b.signature !== '') ||
    b.type === 'redacted_thinking'
  );
}

function sizeOf(blocks: readonly SignedBlock[]): number {
  let size = 0;
  for (const b of blocks)
    size += b.type === 'thinking' ? b.thinking.length + b.signature.length : b.data.length;
  return size;
}

/** A whole answer's signed reasoning, when it has some and a tool call to key it by. */
export function signedTurnOf(content: readonly ContentBlock[]): SignedTurn | undefined {
  const call = content.find((b) => b.type === 'tool_use');
  if (call === undefined || call.id === '') return undefined;
  const blocks = content.filter(isSigned);
  if (blocks.length === 0 || sizeOf(blocks) > MAX_SIGNED_TURN_CHARS) return undefined;
  return { key: toolIdStem(call.id), blocks };
}

function firstToolKey(m: Message): string | undefined {
  for (const b of m.content) if (b.type === 'tool_use') return b.id === '' ? undefined : toolIdStem(b.id);
  return undefined;
}

/**
 * Keys of the assistant turns of the tool loop in progress (from the request's end back to the
 * last assistant turn without a tool call) that carry tool calls but no signed reasoning, latest
 * first. Empty for a request without tool calls in its history.
 */
export function unsignedToolTurns(req: Request): string[] {
  const keys: string[] = [];
  for (let i = req.messages.length - 1; i >= 0 && keys.length < MAX_TURNS_LOOKED_UP; i--) {
    const m = req.messages[i]!;
    if (m.role !== 'assistant') continue;
    const key = firstToolKey(m);
    if (key === undefined) break;
    if (!m.content.some(isSigned)) keys.push(key);
  }
  return keys;
}

/**
 * Keys of the tool turns a request from `ingress`, written as `written` for `upstream`, may need
 * restored: those of unsignedToolTurns, when the upstream demands signed reasoning and the client's
 * protocol may have dropped it; else none.
 */
export function turnsToRestore(
  ingress: Protocol,
  upstream: Protocol,
  req: Request,
  written: JsonObject,
): string[] {
  if (!clientMayDropSignatures(ingress) || !demandsSignedTurn(upstream, written)) return [];
  return unsignedToolTurns(req);
}

/**
 * `req` with remembered reasoning at the head of each assistant turn it was remembered for (where
 * the upstream wants it), in place of any unsigned reasoning the client sent back.
 */
export function withRestoredReasoning(req: Request, restored: RestoredReasoning): Request {
  const messages = req.messages.map((m) => {
    if (m.role !== 'assistant' || m.content.some(isSigned)) return m;
    const key = firstToolKey(m);
    const blocks = key === undefined ? undefined : restored[key];
    if (blocks === undefined) return m;
    return { role: m.role, content: [...blocks, ...m.content.filter((b) => b.type !== 'thinking')] };
  });
  return { ...req, messages };
}

interface OpenReasoning {
  thinking: string;
  signature: string;
  data: string | undefined;
}

/**
 * Gathers a streamed answer's reasoning blocks (text and signature) and its first tool call as the
 * events pass, within MAX_SIGNED_TURN_CHARS; past the cap it stops gathering and has nothing.
 */
export class ReasoningGatherer {
  readonly #blocks = new Map<number, OpenReasoning>();
  #firstCall: string | undefined;
  #size = 0;
  #overflowed = false;

  add(event: StreamEvent): void {
    if (this.#overflowed) return;
    switch (event.type) {
      case 'block_start':
        if (event.block.type === 'tool_use') this.#firstCall ??= event.block.id;
        else if (event.block.type === 'thinking') this.#open(event.index, undefined);
        else if (event.block.type === 'redacted_thinking') this.#open(event.index, event.block.data);
        return;
      case 'thinking_delta':
        this.#grow(event.thinking.length);
        if (!this.#overflowed) this.#at(event.index).thinking += event.thinking;
        return;
      case 'signature_delta':
        this.#grow(event.signature.length);
        if (!this.#overflowed) this.#at(event.index).signature += event.signature;
        return;
      default:
        return;
    }
  }

  /** The reasoning blocks so far, in stream order (unsigned ones included); empty past the cap. */
  blocks(): (ThinkingBlock | RedactedThinkingBlock)[] {
    if (this.#overflowed) return [];
    return [...this.#blocks.entries()]
      .sort(([a], [b]) => a - b)
      .map(([, b]) =>
        b.data !== undefined
          ? { type: 'redacted_thinking', data: b.data }
          : b.signature === ''
            ? { type: 'thinking', thinking: b.thinking }
            : { type: 'thinking', thinking: b.thinking, signature: b.signature },
      );
  }

  /** The answer's signed reasoning keyed by its first tool call, when it had both. */
  turn(): SignedTurn | undefined {
    if (this.#firstCall === undefined || this.#firstCall === '') return undefined;
    const blocks = this.blocks().filter(isSigned);
    return blocks.length === 0 ? undefined : { key: toolIdStem(this.#firstCall), blocks };
  }

  #open(index: number, data: string | undefined): void {
    if (data !== undefined) this.#grow(data.length);
    if (!this.#overflowed) this.#blocks.set(index, { thinking: '', signature: '', data });
  }

  /** A delta for a block that never started starts it (writers tolerate any order, ir.ts). */
  #at(index: number): OpenReasoning {
    let block = this.#blocks.get(index);
    if (block === undefined) {
      block = { thinking: '', signature: '', data: undefined };
      this.#blocks.set(index, block);
    }
    return block;
  }

  #grow(chars: number): void {
    this.#size += chars;
    if (this.#size <= MAX_SIGNED_TURN_CHARS) return;
    this.#overflowed = true;
    this.#blocks.clear();
  }
}

// Signed reasoning on OpenAI Chat messages: the `reasoning_details` array OpenAI-compatible
// servers (OpenRouter and those that follow it) put on an assistant message beside
// `reasoning_content`, so a client that appends the message as it came hands the signatures back.
// Items are `{type: 'reasoning.text', text, signature, format, index}` and, for redacted reasoning,
// `{type: 'reasoning.encrypted', data, format, index}`; `reasoning.summary` items carry text only.

import type { ContentBlock, JsonObject, JsonValue, RedactedThinkingBlock, ThinkingBlock } from '../ir.ts';
import { arr, field, str } from '../json-access.ts';

/** The IR does not say which vendor signed a block; the client hands the item back as it is anyway. */
const FORMAT = 'unknown';

/**
 * The `reasoning_details` of an answer's reasoning blocks, or undefined when none is signed or
 * redacted (unsigned reasoning travels in `reasoning_content` alone, as before).
 */
export function writeReasoningDetails(
  blocks: readonly (ThinkingBlock | RedactedThinkingBlock)[],
): JsonObject[] | undefined {
  if (!blocks.some((b) => b.type === 'redacted_thinking' || (b.signature ?? '') !== '')) return undefined;
  return blocks.map((b, index): JsonObject => {
    if (b.type === 'redacted_thinking')
      return { type: 'reasoning.encrypted', data: b.data, format: FORMAT, index };
    const item: JsonObject = { type: 'reasoning.text', text: b.thinking };
    if (b.signature) item.signature = b.signature;
    item.format = FORMAT;
    item.index = index;
    return item;
  });
}

/**
 * Reasoning blocks from a client's `reasoning_details`, in order; undefined when the message has
 * none (then its `reasoning_content` is read instead).
 */
export function readReasoningDetails(value: JsonValue | undefined): ContentBlock[] | undefined {
  const out: ContentBlock[] = [];
  for (const item of arr(value)) {
    switch (str(field(item, 'type'))) {
      case 'reasoning.text': {
        const signature = str(field(item, 'signature'));
        out.push({
          type: 'thinking',
          thinking: str(field(item, 'text')) ?? '',
          ...(signature ? { signature } : {}),
        });
        break;
      }
      case 'reasoning.encrypted': {
        const data = str(field(item, 'data'));
        if (data) out.push({ type: 'redacted_thinking', data });
        break;
      }
      case 'reasoning.summary': {
        const summary = str(field(item, 'summary'));
        if (summary) out.push({ type: 'thinking', thinking: summary });
        break;
      }
    }
  }
  return out.length === 0 ? undefined : out;
}

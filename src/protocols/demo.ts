// The built-in `demo` model: a deterministic echo answered in-process, expressed in the IR so
// every protocol's own writer renders it (streaming and not). It lets a first request work offline.

import { mintId } from './ids.ts';
import type { Request, Response, StreamEvent, Usage } from './ir.ts';

const GREETING = "Hello from Busbar's demo model.";

function lastUserText(req: Request): string {
  for (let i = req.messages.length - 1; i >= 0; i--) {
    const message = req.messages[i]!;
    if (message.role !== 'user') continue;
    const text = message.content
      .map((b) => (b.type === 'text' ? b.text : ''))
      .join(' ')
      .trim();
    if (text !== '') return text;
  }
  return '';
}

/** Whitespace-separated words: a stable stand-in for a tokenizer. */
function wordCount(text: string): number {
  return text.split(/\s+/).filter((w) => w !== '').length;
}

export function demoAnswerText(req: Request): string {
  const said = lastUserText(req);
  return said === '' ? GREETING : `${GREETING} You said: ${said}`;
}

function demoUsage(req: Request, answer: string): Usage {
  const prompt = [
    ...req.system.map((b) => b.text),
    ...req.messages.flatMap((m) => m.content.map((b) => (b.type === 'text' ? b.text : ''))),
  ];
  const inputTokens = Math.max(1, wordCount(prompt.join(' ')));
  const outputTokens = wordCount(answer);
  return { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens };
}

export function demoResponse(req: Request, model: string): Response {
  const text = demoAnswerText(req);
  return {
    id: mintId('demo_'),
    model,
    content: [{ type: 'text', text }],
    stopReason: 'end_turn',
    usage: demoUsage(req, text),
    created: Math.floor(Date.now() / 1000),
  };
}

/** The same answer as a stream: one text block delivered a few words per delta. */
export function demoStream(req: Request, model: string): StreamEvent[] {
  const response = demoResponse(req, model);
  const text = demoAnswerText(req);
  const words = text.split(/(?<=\s)/);
  const events: StreamEvent[] = [
    {
      type: 'message_start',
      id: response.id,
      model,
      usage: { inputTokens: response.usage.inputTokens, outputTokens: 0 },
      created: response.created,
    },
    { type: 'block_start', index: 0, block: { type: 'text' } },
  ];
  for (let i = 0; i < words.length; i += 3)
    events.push({ type: 'text_delta', index: 0, text: words.slice(i, i + 3).join('') });
  events.push(
    { type: 'block_stop', index: 0 },
    { type: 'message_delta', stopReason: 'end_turn', usage: response.usage },
    { type: 'message_stop' },
  );
  return events;
}

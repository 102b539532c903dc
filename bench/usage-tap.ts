// CPU of the usage tap on a relayed OpenAI stream as upstreams send it: one SSE event per chunk
// (a 300-token answer, `usage: null` on every chunk, then the stop, the usage chunk and [DONE]).
// In process, no sockets: what the tap itself costs per stream, this checkout against another.
//   node bench/usage-tap.ts [--baseline ../other-checkout] [--streams 2000]

import path from 'node:path';
import { parseArgs } from 'node:util';
import { compareCheckouts, cpuMicrosPer } from './lib/checkouts.ts';

const { values } = parseArgs({
  options: { baseline: { type: 'string' }, streams: { type: 'string', default: '2000' } },
});
const streams = Number(values.streams);

const head = '"id":"chatcmpl-abc123","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o"';
const content = (text: string): string =>
  `data: {${head},"choices":[{"index":0,"delta":{"content":${JSON.stringify(text)}},"logprobs":null,"finish_reason":null}],"usage":null}\n\n`;
const EVENTS = [
  content(''),
  ...Array.from({ length: 300 }, (_, i) => content(` token${i}`)),
  `data: {${head},"choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null}\n\n`,
  `data: {${head},"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":300,"total_tokens":310}}\n\n`,
  'data: [DONE]\n\n',
].map((e) => Buffer.from(e));

interface Tap {
  push(chunk: Buffer): void;
  finish(): unknown;
}
type TapClass = new (protocol: string, stream: boolean, wantFacts: boolean) => Tap;

async function measure(root: string): Promise<number> {
  const { UsageTap } = (await import(path.resolve(root, 'src/protocols/usage.ts'))) as { UsageTap: TapClass };
  const once = (): unknown => {
    const tap = new UsageTap('openai', true, true);
    for (const event of EVENTS) tap.push(event);
    return tap.finish();
  };
  const usage = JSON.stringify(once());
  if (usage !== '{"inputTokens":10,"outputTokens":300}') throw new Error(`${root}: usage read as ${usage}`);
  return cpuMicrosPer(streams, 300, once);
}

await compareCheckouts(values.baseline, `${EVENTS.length}-event stream`, measure);

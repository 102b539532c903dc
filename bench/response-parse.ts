// CPU of reading an upstream answer off the wire: the HTTP/1.1 response parser on a streamed
// answer as LLM upstreams send it (chunked, one SSE event per HTTP chunk, each in its own read).
// In process, no sockets: this checkout against another.
//   node bench/response-parse.ts [--baseline ../other-checkout] [--answers 20000] [--events 20]

import path from 'node:path';
import { parseArgs } from 'node:util';
import { compareCheckouts, cpuMicrosPer } from './lib/checkouts.ts';

const { values } = parseArgs({
  options: {
    baseline: { type: 'string' },
    answers: { type: 'string', default: '20000' },
    events: { type: 'string', default: '20' },
  },
});
const answers = Number(values.answers);
const events = Number(values.events);

const event = (i: number): string =>
  `data: {"id":"chatcmpl-abc123","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":" token${i}"},"logprobs":null,"finish_reason":null}]}\n\n`;
const HEAD = Buffer.from(
  'HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n' +
    'transfer-encoding: chunked\r\nconnection: keep-alive\r\n\r\n',
);
const READS = [
  HEAD,
  ...Array.from({ length: events }, (_, i) => {
    const e = event(i);
    return Buffer.from(`${Buffer.byteLength(e).toString(16)}\r\n${e}\r\n`);
  }),
  Buffer.from('0\r\n\r\n'),
];
/** The events' bytes: what the parser must hand on, nothing more. */
const BODY_BYTES = Array.from({ length: events }, (_, i) => Buffer.byteLength(event(i))).reduce(
  (a, b) => a + b,
  0,
);

interface Events {
  onHead(head: unknown): void;
  onBody(chunk: Buffer): boolean;
  onEnd(): void;
}
type ParserClass = new (events: Events) => { execute(buf: Buffer): number };

async function measure(root: string): Promise<number> {
  const { ResponseParser } = (await import(path.resolve(root, 'src/upstream/h1-response.ts'))) as {
    ResponseParser: ParserClass;
  };
  let bytes = 0;
  let ended = 0;
  const sink: Events = {
    onHead: () => {},
    onBody: (chunk) => {
      bytes += chunk.length;
      return true;
    },
    onEnd: () => {
      ended++;
    },
  };
  const once = (): void => {
    const parser = new ResponseParser(sink);
    for (const read of READS) parser.execute(read);
  };
  once();
  if (ended !== 1 || bytes !== BODY_BYTES) throw new Error(`${root}: the answer was not read whole`);
  return cpuMicrosPer(answers, 2000, once);
}

await compareCheckouts(values.baseline, `${events}-event answer`, measure, 2);

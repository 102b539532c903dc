// The frontier and a real peer (issue 18, items 4 and 5): one concurrency sweep per subject against
// the same mock — the mock reached directly (the floor), the minimal Node proxy, Busbar and, with
// `--peers`, the open-source Portkey gateway (installed on first use into bench/.peers) — and from
// it the frontier as the reference measures it: the highest req/s at which p99 stays under 1 ms,
// and under 5 ms, with no failed request. Streams per second at c=64 come from one more run each.
//
//   node bench/peers.ts [--peers] [--seconds 2]        (`npm run bench -- --peers` runs it too)

import { parseArgs } from 'node:util';
import { LoadGenerator } from './lib/load-generator.ts';
import { ensurePortkey, PORTKEY_VERSION, portkeyRequest, startPortkey } from './lib/portkey.ts';
import { type Running, startMinimalProxy, startMock } from './lib/processes.ts';
import { CLIENT_TOKEN, rawRequest, startBusbar } from './lib/subjects.ts';

const SWEEP = [1, 2, 4, 8, 16, 32, 64, 128];

interface Step {
  readonly concurrency: number;
  readonly reqPerS: number;
  readonly p99Us: number;
  readonly errors: number;
}

export interface PeerResult {
  readonly name: string;
  readonly steps: readonly Step[];
  /** SSE streams per second at c=64, or why there is none. */
  readonly streams: number | string;
}

/** The highest req/s of the sweep at which p99 stayed under `us` with no failed request. */
export function frontier(steps: readonly Step[], us: number): number | undefined {
  const ok = steps.filter((s) => s.errors === 0 && s.p99Us < us).map((s) => s.reqPerS);
  return ok.length === 0 ? undefined : Math.max(...ok);
}

interface Subject {
  readonly name: string;
  start(mockPort: number): Promise<Running>;
  request(port: number, mockPort: number, stream: boolean): string;
}

export async function runPeers(opts: {
  peers: boolean;
  seconds: number;
  log: (m: string) => void;
}): Promise<PeerResult[]> {
  const subjects: Subject[] = [
    {
      name: 'direct → mock (floor)',
      start: async (mockPort) => ({ port: mockPort }) as Running,
      request: (port, _m, stream) => rawRequest(port, 'openai', 'p', stream, CLIENT_TOKEN),
    },
    {
      name: 'minimal Node proxy',
      start: (mockPort) => startMinimalProxy(mockPort),
      request: (port, _m, stream) => rawRequest(port, 'openai', 'p', stream, CLIENT_TOKEN),
    },
    {
      name: 'Busbar',
      start: (mockPort) => startBusbar('busbar', mockPort),
      request: (port, _m, stream) => rawRequest(port, 'openai', 'p', stream, CLIENT_TOKEN),
    },
  ];
  if (opts.peers) {
    const entry = ensurePortkey(opts.log);
    subjects.push({
      name: `Portkey gateway ${PORTKEY_VERSION}`,
      start: () => startPortkey(entry),
      request: (port, mockPort, stream) =>
        portkeyRequest(rawRequest(port, 'openai', 'bench-model', stream, 'sk-bench'), mockPort),
    });
  }
  // The main bench's mock: stream chunks 1 ms apart.
  const mock = await startMock(['--chunk-gap-ms=1']);
  const loadgen = new LoadGenerator();
  const results: PeerResult[] = [];
  try {
    for (const subject of subjects) {
      const running = await subject.start(mock.port);
      try {
        const steps: Step[] = [];
        for (const concurrency of SWEEP) {
          opts.log(`${subject.name}: c=${concurrency}`);
          const r = await loadgen.run({
            port: running.port,
            request: subject.request(running.port, mock.port, false),
            concurrency,
            warmup: { ms: 300 },
            measure: { ms: opts.seconds * 1000 },
            ttfb: false,
            watchPids: [],
            rssEveryMs: 0,
          });
          steps.push({
            concurrency,
            reqPerS: r.elapsedMs > 0 ? (r.ok / r.elapsedMs) * 1000 : 0,
            p99Us: r.latencyUs.p99,
            errors: r.errors,
          });
        }
        const s = await loadgen.run({
          port: running.port,
          request: subject.request(running.port, mock.port, true),
          concurrency: 64,
          warmup: { ms: 300 },
          measure: { ms: opts.seconds * 1000 },
          ttfb: false,
          watchPids: [],
          rssEveryMs: 0,
        });
        const streams =
          s.errors > 0
            ? `fails (${s.errors} of ${s.ok + s.errors}: ${s.firstError ?? 'error'})`
            : (s.ok / s.elapsedMs) * 1000;
        results.push({ name: subject.name, steps, streams });
      } finally {
        if (running.stop !== undefined) await running.stop();
      }
    }
  } finally {
    await loadgen.close();
    await mock.stop();
  }
  return results;
}

export function peersMarkdown(results: readonly PeerResult[]): string {
  const n = (v: number | undefined): string =>
    v === undefined ? 'none' : Math.round(v).toLocaleString('en-US');
  const head = `| Subject | ${SWEEP.map((c) => `c=${c}`).join(' | ')} | frontier p99 < 1 ms | frontier p99 < 5 ms | SSE streams/s c=64 |`;
  const rule = `|---|${SWEEP.map(() => '---').join('|')}|---|---|---|`;
  const rows = results.map((r) => {
    const cells = r.steps.map(
      (s) =>
        `${n(s.reqPerS)} (${(s.p99Us / 1000).toFixed(2)} ms${s.errors > 0 ? `, ${s.errors} failed` : ''})`,
    );
    const streams = typeof r.streams === 'number' ? n(r.streams) : r.streams.slice(0, 120);
    return `| ${r.name} | ${cells.join(' | ')} | ${n(frontier(r.steps, 1000))} | ${n(frontier(r.steps, 5000))} | ${streams} |`;
  });
  return [
    'req/s (p99) at each concurrency, non-streaming, against the same mock; the frontier is the highest req/s of the sweep with p99 under the bound and no failed request.',
    '',
    head,
    rule,
    ...rows,
  ].join('\n');
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: { peers: { type: 'boolean', default: false }, seconds: { type: 'string', default: '2' } },
  });
  const results = await runPeers({
    peers: values.peers,
    seconds: Number(values.seconds),
    log: (m) => process.stderr.write(`[peers] ${m}\n`),
  });
  process.stdout.write(`${peersMarkdown(results)}\n`);
}

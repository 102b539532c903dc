// The load generator: a child process (forked by bench/run.ts, driven over IPC) holding N HTTP/1.1
// keep-alive connections on raw `node:net` sockets. Each connection sends one pre-encoded request,
// parses the response just enough to find its end (content-length or chunked), and sends the next:
// a closed loop at fixed concurrency. Every request is timed with `process.hrtime.bigint()`, either to
// the last byte (full-response latency) or to the first body byte (streaming time-to-first-byte).
//
// Why not autocannon (9.x): it records latency in whole milliseconds in an HDR histogram (lowest
// discernible value 1 ms), which cannot resolve overheads of tens of microseconds; it has no TTFB
// mode; and its pure-JS response parser costs more CPU on a 2-core box where the generator shares the
// cores with the subject. This generator does a few microseconds of work per request.
//
// While measuring it also samples, for the process ids it is given, CPU time (utime + stime) at the
// start and end of the measured phase and VmRSS every `rssEveryMs`.

import net from 'node:net';
import { cpuTicksOf, rssBytesOf } from './lib/proc.ts';
import { type Percentiles, percentiles } from './lib/stats.ts';

export interface LoadJob {
  readonly port: number;
  /** The complete HTTP/1.1 request (head and body), sent verbatim for every request. */
  readonly request: string;
  readonly concurrency: number;
  /** Warm-up before measuring: by count, or by time. */
  readonly warmup: { readonly requests?: number; readonly ms?: number };
  /** The measured phase: a fixed request count, or a duration; a count run stops sending after capMs. */
  readonly measure: { readonly requests?: number; readonly ms?: number; readonly capMs?: number };
  /** Time to the first response body byte instead of to the last. */
  readonly ttfb: boolean;
  /** Processes whose CPU and RSS are recorded over the measured phase. */
  readonly watchPids: readonly number[];
  /** VmRSS sampling period during the measured phase (0 = start and end only). */
  readonly rssEveryMs: number;
}

export interface LoadResult {
  /** Measured requests completed with a 2xx status. */
  readonly ok: number;
  /** Measured requests that failed: non-2xx status, connection error or malformed response. */
  readonly errors: number;
  readonly firstError: string | undefined;
  /** Wall time of the measured phase, first measured send to last measured completion. */
  readonly elapsedMs: number;
  /** utime + stime of the watched processes over the measured phase, in clock ticks. */
  readonly cpuTicks: number;
  /** Latency (or TTFB) of measured 2xx requests, microseconds. */
  readonly latencyUs: Percentiles;
  readonly rssMaxBytes: number;
  /** [seconds since the measured phase began, VmRSS bytes] per sample. */
  readonly rssSamples: ReadonlyArray<readonly [number, number]>;
}

const CRLF = Buffer.from('\r\n');
const CRLFCRLF = Buffer.from('\r\n\r\n');

// Response parser states (plain numbers: enums are not erasable syntax).
const HEAD = 0;
const LENGTH = 1;
const CHUNK_SIZE = 2;
const CHUNK_DATA = 3;
const TRAILER = 4;
/** A generator that cannot connect this many times in a row gives up. */
const MAX_CONNECT_FAILURES = 50;

class Run {
  readonly #job: LoadJob;
  readonly #request: Buffer;
  #latencies = new Float64Array(1 << 16);
  #count = 0;
  #issued = 0;
  #measuredIssued = 0;
  #measuring = false;
  #stopped = false;
  #open = 0;
  #connectFailures = 0;
  #ok = 0;
  #errors = 0;
  #firstError: string | undefined;
  #warmupEnds = 0n;
  #measureEnds = 0n;
  #t0 = 0n;
  #tLast = 0n;
  #cpu0 = 0;
  #rssMax = 0;
  readonly #rssSamples: Array<[number, number]> = [];
  #rssTimer: NodeJS.Timeout | undefined;
  readonly #done: PromiseWithResolvers<LoadResult> = Promise.withResolvers();

  constructor(job: LoadJob) {
    this.#job = job;
    this.#request = Buffer.from(job.request);
  }

  start(): Promise<LoadResult> {
    const now = process.hrtime.bigint();
    if (this.#job.warmup.ms !== undefined) this.#warmupEnds = now + BigInt(this.#job.warmup.ms) * 1_000_000n;
    for (let i = 0; i < this.#job.concurrency; i++) this.#connect();
    return this.#done.promise;
  }

  /** Decides, at send time, whether the next request is warm-up, measured, or not sent at all. */
  #next(): 'warmup' | 'measure' | 'stop' {
    if (this.#stopped) return 'stop';
    const job = this.#job;
    if (!this.#measuring) {
      const warm =
        job.warmup.requests !== undefined
          ? this.#issued < job.warmup.requests
          : process.hrtime.bigint() < this.#warmupEnds;
      if (warm) return 'warmup';
      this.#beginMeasuring();
    }
    const more =
      (job.measure.requests === undefined || this.#measuredIssued < job.measure.requests) &&
      process.hrtime.bigint() < this.#measureEnds;
    if (!more) {
      this.#stopped = true;
      return 'stop';
    }
    return 'measure';
  }

  #beginMeasuring(): void {
    this.#measuring = true;
    this.#t0 = process.hrtime.bigint();
    this.#tLast = this.#t0;
    const ms = this.#job.measure.ms ?? this.#job.measure.capMs ?? 600_000;
    this.#measureEnds = this.#t0 + BigInt(ms) * 1_000_000n;
    this.#cpu0 = cpuTicksOf(this.#job.watchPids);
    this.#sampleRss();
    if (this.#job.rssEveryMs > 0) this.#rssTimer = setInterval(() => this.#sampleRss(), this.#job.rssEveryMs);
  }

  #sampleRss(): void {
    if (this.#job.watchPids.length === 0) return;
    const rss = rssBytesOf(this.#job.watchPids);
    if (rss > this.#rssMax) this.#rssMax = rss;
    this.#rssSamples.push([Number(process.hrtime.bigint() - this.#t0) / 1e9, rss]);
  }

  #record(ns: bigint): void {
    if (this.#count === this.#latencies.length) {
      const grown = new Float64Array(this.#latencies.length * 2);
      grown.set(this.#latencies);
      this.#latencies = grown;
    }
    this.#latencies[this.#count++] = Number(ns) / 1000;
  }

  #fail(measured: boolean, why: string): void {
    if (!measured) return;
    this.#errors++;
    this.#firstError ??= why;
  }

  #connect(): void {
    this.#open++;
    const socket = net.connect({ port: this.#job.port, host: '127.0.0.1', noDelay: true });
    let state = HEAD;
    let pending: Buffer | undefined;
    let remaining = 0;
    let status = 0;
    let close = false;
    let sentAt = 0n;
    let firstByteAt = 0n;
    let measured = false;
    let inFlight = false;
    let connected = false;

    const send = (): void => {
      const kind = this.#next();
      if (kind === 'stop') {
        socket.end();
        return;
      }
      this.#issued++;
      measured = kind === 'measure';
      if (measured) this.#measuredIssued++;
      state = HEAD;
      firstByteAt = 0n;
      inFlight = true;
      sentAt = process.hrtime.bigint();
      socket.write(this.#request);
    };

    const complete = (): void => {
      const end = process.hrtime.bigint();
      inFlight = false;
      if (measured) {
        this.#tLast = end;
        if (status >= 200 && status < 300) {
          this.#ok++;
          this.#record((this.#job.ttfb ? firstByteAt || end : end) - sentAt);
        } else this.#fail(true, `HTTP ${status}`);
      }
      if (close) {
        socket.destroy();
        return;
      }
      send();
    };

    socket.on('connect', () => {
      connected = true;
      this.#connectFailures = 0;
      send();
    });
    socket.on('data', (chunk: Buffer) => {
      const b = pending === undefined ? chunk : Buffer.concat([pending, chunk]);
      pending = undefined;
      let i = 0;
      while (i < b.length) {
        switch (state) {
          case HEAD: {
            const e = b.indexOf(CRLFCRLF, i);
            if (e < 0) {
              pending = b.subarray(i);
              return;
            }
            const head = b.toString('latin1', i, e).toLowerCase();
            status = Number(head.slice(9, 12));
            close = head.includes('\nconnection: close');
            i = e + 4;
            if (head.includes('\ntransfer-encoding: chunked')) {
              state = CHUNK_SIZE;
            } else {
              const m = /\ncontent-length: *(\d+)/.exec(head);
              remaining = m ? Number(m[1]) : 0;
              state = LENGTH;
              if (remaining === 0) complete();
            }
            break;
          }
          case LENGTH: {
            if (firstByteAt === 0n) firstByteAt = process.hrtime.bigint();
            const n = Math.min(remaining, b.length - i);
            remaining -= n;
            i += n;
            if (remaining === 0) complete();
            break;
          }
          case CHUNK_SIZE: {
            const e = b.indexOf(CRLF, i);
            if (e < 0) {
              pending = b.subarray(i);
              return;
            }
            const size = Number.parseInt(b.toString('latin1', i, e), 16);
            i = e + 2;
            if (size === 0) state = TRAILER;
            else {
              if (firstByteAt === 0n) firstByteAt = process.hrtime.bigint();
              remaining = size + 2;
              state = CHUNK_DATA;
            }
            break;
          }
          case CHUNK_DATA: {
            const n = Math.min(remaining, b.length - i);
            remaining -= n;
            i += n;
            if (remaining === 0) state = CHUNK_SIZE;
            break;
          }
          case TRAILER: {
            if (b.length - i < 2) {
              pending = b.subarray(i);
              return;
            }
            if (b[i] === 13 && b[i + 1] === 10) {
              i += 2;
              complete();
              break;
            }
            const e = b.indexOf(CRLFCRLF, i);
            if (e < 0) {
              pending = b.subarray(i);
              return;
            }
            i = e + 4;
            complete();
            break;
          }
        }
      }
    });
    socket.on('error', (err) => {
      if (inFlight) this.#fail(measured, err.message);
    });
    socket.on('close', () => {
      this.#open--;
      if (inFlight) {
        inFlight = false;
        this.#fail(measured, 'connection closed mid-response');
      }
      if (!connected && ++this.#connectFailures >= MAX_CONNECT_FAILURES) {
        this.#stopped = true;
        this.#fail(true, `cannot connect to 127.0.0.1:${this.#job.port}`);
      }
      if (this.#next() !== 'stop') this.#connect();
      else if (this.#open === 0) this.#finish();
    });
  }

  #finish(): void {
    if (this.#rssTimer !== undefined) clearInterval(this.#rssTimer);
    if (!this.#measuring) this.#beginMeasuring();
    this.#sampleRss();
    const cpuTicks = cpuTicksOf(this.#job.watchPids) - this.#cpu0;
    this.#done.resolve({
      ok: this.#ok,
      errors: this.#errors,
      firstError: this.#firstError,
      elapsedMs: Number(this.#tLast - this.#t0) / 1e6,
      cpuTicks,
      latencyUs: percentiles(this.#latencies.subarray(0, this.#count)),
      rssMaxBytes: this.#rssMax,
      rssSamples: this.#rssSamples,
    });
  }
}

export function runLoad(job: LoadJob): Promise<LoadResult> {
  return new Run(job).start();
}

// Forked by the runner: one job per message, answered in order.
if (process.send !== undefined) {
  let queue = Promise.resolve();
  process.on('message', (job: LoadJob) => {
    queue = queue.then(async () => {
      const result = await runLoad(job);
      process.send?.(result);
    });
  });
  process.on('disconnect', () => process.exit(0));
}

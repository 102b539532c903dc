// Linux /proc readers: CPU time (utime + stime from /proc/<pid>/stat), resident memory (VmRSS from
// /proc/<pid>/status) and the process tree (for a gateway that forks workers). Synchronous on purpose:
// each read is a few microseconds and is done from the load generator between requests.

import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let clockTicks: number | undefined;

/** USER_HZ: the unit of utime/stime (100 on every mainstream Linux). */
export function clkTck(): number {
  if (clockTicks === undefined) {
    const out = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    const n = Number.parseInt(out.stdout ?? '', 10);
    clockTicks = Number.isFinite(n) && n > 0 ? n : 100;
  }
  return clockTicks;
}

/** utime + stime of one process (all its threads), in clock ticks; 0 when it is gone. */
export function cpuTicks(pid: number): number {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return 0;
  }
  // The command name is parenthesised and may contain spaces: fields restart after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of stat(5) are utime and stime; after the name, field 3 is index 0.
  return Number(fields[11]) + Number(fields[12]);
}

/**
 * CPU time of one process's threads alive now, in nanoseconds (the first field of each thread's
 * schedstat): no clock-tick rounding, so short measured phases can be compared.
 */
export function cpuNanos(pid: number): number {
  let threads: string[];
  try {
    threads = readdirSync(`/proc/${pid}/task`);
  } catch {
    return 0;
  }
  let sum = 0;
  for (const tid of threads) {
    try {
      sum += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'latin1').split(' ')[0]);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return sum;
}

/**
 * CPU time of one process's threads alive now, in nanoseconds, by thread name (`comm`: the main
 * thread is named after the process, V8's helpers `V8Worker`, libuv's `libuv-worker`).
 */
export function cpuNanosByThread(pid: number): Map<string, number> {
  const by = new Map<string, number>();
  let threads: string[];
  try {
    threads = readdirSync(`/proc/${pid}/task`);
  } catch {
    return by;
  }
  for (const tid of threads) {
    try {
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'latin1').trim();
      const ns = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'latin1').split(' ')[0]);
      by.set(name, (by.get(name) ?? 0) + ns);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return by;
}

/** Sum of cpuTicks over several processes. */
export function cpuTicksOf(pids: readonly number[]): number {
  let sum = 0;
  for (const pid of pids) sum += cpuTicks(pid);
  return sum;
}

/** VmRSS in bytes; 0 when the process is gone. */
export function rssBytes(pid: number): number {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'latin1');
  } catch {
    return 0;
  }
  const m = /^VmRSS:\s+(\d+) kB/m.exec(text);
  return m ? Number(m[1]) * 1024 : 0;
}

export function rssBytesOf(pids: readonly number[]): number {
  let sum = 0;
  for (const pid of pids) sum += rssBytes(pid);
  return sum;
}

/** `pid` and all its descendants (a clustered gateway is a primary plus workers). */
export function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    const p = out[i]!;
    let tids: string[];
    try {
      tids = readFileSync(`/proc/${p}/task/${p}/children`, 'latin1').trim().split(/\s+/);
    } catch {
      continue;
    }
    for (const c of tids) if (c !== '') out.push(Number(c));
  }
  return out;
}

export interface Machine {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memTotalMiB: number;
  readonly kernel: string;
  readonly node: string;
  readonly loadAvgAtStart: string;
}

export function describeMachine(cores: number, kernel: string): Machine {
  const cpuinfo = safeRead('/proc/cpuinfo');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown';
  const mem = /^MemTotal:\s+(\d+) kB/m.exec(safeRead('/proc/meminfo'))?.[1];
  return {
    cpuModel: model,
    cores,
    memTotalMiB: mem === undefined ? 0 : Math.round(Number(mem) / 1024),
    kernel,
    node: process.version,
    loadAvgAtStart: safeRead('/proc/loadavg').split(' ').slice(0, 3).join(' '),
  };
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return '';
  }
}

/** Busy clock ticks of the whole machine, all cores (from the first line of /proc/stat). */
export function machineBusyTicks(): number {
  const first = safeRead('/proc/stat').split('\n', 1)[0] ?? '';
  const f = first.trim().split(/\s+/).slice(1, 9).map(Number);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  return f.reduce((a, b) => a + b, 0) - idle;
}

/** utime + stime of this process plus its reaped descendants (cutime + cstime). */
export function selfAndChildrenTicks(): number {
  const text = safeRead('/proc/self/stat');
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
}

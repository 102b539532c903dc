// What Node's module loader costs per module, whatever the module holds: N one-line modules (as
// TypeScript, as JavaScript) imported by one entry, against an empty start, each in a fresh process
// with the compile cache warm (as `bin/busbar.js` starts). The gateway loads ~96 modules before it
// binds and ~160 in all; this is the share of its cold start and idle RSS that is the loader's own.
//   node bench/module-cost.ts [--modules 160] [--runs 5]

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { median } from './lib/stats.ts';

const { values } = parseArgs({
  options: { modules: { type: 'string', default: '160' }, runs: { type: 'string', default: '5' } },
});
const modules = Number(values.modules);
const runs = Number(values.runs);

const dir = mkdtempSync(path.join(tmpdir(), 'busbar-module-cost-'));
const cacheDir = path.join(dir, 'compile-cache');
for (const ext of ['ts', 'mjs']) {
  const names = Array.from({ length: modules }, (_, i) => `m${i}`);
  for (const name of names)
    writeFileSync(
      path.join(dir, `${name}.${ext}`),
      `export const ${name}${ext === 'ts' ? ': number' : ''} = 1;\n`,
    );
  writeFileSync(
    path.join(dir, `all.${ext}`),
    `${names.map((n) => `import { ${n} } from './${n}.${ext}';`).join('\n')}\nexport const all = [${names.join(', ')}];\n`,
  );
}
/** Imports `entry` (or nothing), then prints the import's ms and, 800 ms later, RSS and anonymous MiB. */
const PROBE = `
import module from 'node:module';
import { readFileSync } from 'node:fs';
module.enableCompileCache(process.env.CACHE_DIR);
const entry = process.argv[2];
const t0 = performance.now();
if (entry !== 'none') await import(entry);
const ms = performance.now() - t0;
setTimeout(() => {
  const s = readFileSync('/proc/self/smaps_rollup', 'utf8');
  const kib = (k) => Number(new RegExp('^' + k + ':\\\\s+(\\\\d+)', 'm').exec(s)[1]);
  console.log(JSON.stringify({ ms, rss: kib('Rss') / 1024, anon: kib('Anonymous') / 1024, stripper: process.moduleLoadList.some((m) => m.includes('amaro')) }));
}, 800);
`;
writeFileSync(path.join(dir, 'probe.mjs'), PROBE);
const subjects = {
  none: 'none',
  typescript: path.join(dir, 'all.ts'),
  javascript: path.join(dir, 'all.mjs'),
};
type Sample = { ms: number; rss: number; anon: number };
const samples: Record<string, Sample[]> = { none: [], typescript: [], javascript: [] };
try {
  // The first round fills the compile cache and is not counted.
  for (let round = 0; round <= runs; round++)
    for (const [name, entry] of Object.entries(subjects)) {
      const out = execFileSync(process.execPath, [path.join(dir, 'probe.mjs'), entry], {
        env: { ...process.env, CACHE_DIR: cacheDir, NODE_OPTIONS: '' },
        encoding: 'utf8',
      });
      const sample = JSON.parse(out) as Sample & { stripper: boolean };
      // A warm start takes stripped TypeScript from the cache; the stripper loaded means it missed.
      if (round > 0 && sample.stripper) throw new Error(`${name}: the compile cache missed`);
      if (round > 0) samples[name]!.push(sample);
    }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const base = samples.none!;
const med = (xs: Sample[], k: keyof Sample): number => median(xs.map((x) => x[k]));
console.log(`${modules} one-line modules, compile cache warm, median of ${runs} fresh processes each:`);
for (const name of ['typescript', 'javascript']) {
  const xs = samples[name]!;
  console.log(
    `  ${name.padEnd(10)} import ${med(xs, 'ms').toFixed(1)} ms (${((med(xs, 'ms') / modules) * 1000).toFixed(0)} µs a module); ` +
      `RSS +${(med(xs, 'rss') - med(base, 'rss')).toFixed(1)} MiB, anonymous +${(med(xs, 'anon') - med(base, 'anon')).toFixed(1)} MiB`,
  );
}

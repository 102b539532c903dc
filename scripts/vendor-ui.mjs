#!/usr/bin/env node
// Copies the dashboard's third-party browser files from a node_modules directory into ui/vendor/.
// The copies are committed: the gateway serves ui/ as-is and never reads node_modules at run time.
//
// Usage:
//   npm install --prefix /tmp/busbar-ui htm@3.1.1 uplot@1.6.32
//   node scripts/vendor-ui.mjs /tmp/busbar-ui/node_modules
//
// The argument defaults to ./node_modules. htm's standalone bundle compiles Preact 10 into the same
// file without a licence header and htm's package does not ship Preact's licence, so Preact's MIT
// licence text is kept below and written next to it.
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const PINNED = { htm: '3.1.1', uplot: '1.6.32' };

const FILES = [
  ['htm/preact/standalone.module.js', 'preact-htm.js'],
  ['htm/LICENSE', 'LICENSE-htm.txt'],
  ['uplot/dist/uPlot.esm.js', 'uPlot.esm.js'],
  ['uplot/dist/uPlot.min.css', 'uPlot.min.css'],
  ['uplot/LICENSE', 'LICENSE-uplot.txt'],
];

const PREACT_LICENSE = `The MIT License (MIT)

Copyright (c) 2015-present Jason Miller

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
`;

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const modules = resolve(process.argv[2] ?? 'node_modules');
const out = join(root, 'ui', 'vendor');

function fail(message) {
  console.error(`vendor-ui: ${message}`);
  process.exit(1);
}

for (const [name, version] of Object.entries(PINNED)) {
  const manifest = join(modules, name, 'package.json');
  if (!existsSync(manifest)) {
    fail(`${manifest} not found; install with: npm install --prefix DIR htm@3.1.1 uplot@1.6.32`);
  }
  const found = JSON.parse(readFileSync(manifest, 'utf8')).version;
  if (found !== version) fail(`${name} is ${found} in ${modules}, the dashboard is pinned to ${version}`);
}

mkdirSync(out, { recursive: true });
for (const [from, to] of FILES) {
  copyFileSync(join(modules, from), join(out, to));
  console.log(`ui/vendor/${to} <- ${from}`);
}
writeFileSync(join(out, 'LICENSE-preact.txt'), PREACT_LICENSE);
console.log('ui/vendor/LICENSE-preact.txt <- Preact 10 (bundled in htm/preact/standalone.module.js)');

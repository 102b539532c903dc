// The script routing policy's cost per decision, alone: one sandbox (QuickJS in a worker thread),
// a typical ranking script over 4 candidates, evaluations one at a time (latency: the round trip to
// the worker, the JSON copy of the inputs, the script) and 16 at a time (throughput of one worker).
//
//   node bench/script-policy.ts [--evaluations 20000]

import { parseArgs } from 'node:util';
import { type ScriptInput, ScriptSandbox } from '../src/policy/script-sandbox.ts';

const { values } = parseArgs({ options: { evaluations: { type: 'string', default: '20000' } } });
const evaluations = Number(values.evaluations);

const SCRIPT = `
const big = req.total_chars > 4000 || req.has_tools;
const fit = candidates.filter(c => c.context_max === null || c.context_max > req.total_chars / 3);
fit
  .filter(c => !big || c.tier === 'large')
  .sort((a, b) => (a.cost_per_mtok ?? 1e9) - (b.cost_per_mtok ?? 1e9) || (a.latency_ms ?? 1e9) - (b.latency_ms ?? 1e9))
  .map(c => c.idx)
`;

const candidate = (idx: number, tier: string, cost: number, latency: number | null) => ({
  idx,
  model: `m${idx}`,
  provider: 'p',
  weight: 1,
  context_max: 128000,
  tier,
  cost_per_mtok: cost,
  tags: ['eu', tier],
  latency_ms: latency,
  available_concurrency: 32,
  budget_remaining: null,
  rate_headroom: null,
});
const input: ScriptInput = {
  req: {
    pool: 'bench',
    ingress_protocol: 'openai-chat',
    requested_model: 'bench',
    message_count: 3,
    tool_count: 0,
    has_tools: false,
    system_chars: 120,
    total_chars: 1800,
    max_tokens: 512,
    stream: false,
  },
  candidates: [
    candidate(0, 'small', 0.15, 210),
    candidate(1, 'large', 2.5, 480),
    candidate(2, 'small', 0.1, null),
    candidate(3, 'large', 3, 390),
  ],
  ctx: { pool: 'bench', budget_remaining: null },
};

const sandbox = await ScriptSandbox.create(SCRIPT);
const check = await sandbox.evaluate(input, 150);
if (check.kind !== 'order') throw new Error(`the script did not order: ${JSON.stringify(check)}`);

const micros: number[] = [];
for (let i = 0; i < evaluations + 2000; i++) {
  const started = performance.now();
  const v = await sandbox.evaluate(input, 150);
  if (i >= 2000) micros.push((performance.now() - started) * 1000);
  if (v.kind !== 'order') throw new Error(`evaluation ${i}: ${JSON.stringify(v)}`);
}
micros.sort((a, b) => a - b);
const at = (q: number) => micros[Math.min(micros.length - 1, Math.floor(q * micros.length))]!.toFixed(0);

const inFlight = 16;
const started = performance.now();
let next = 0;
await Promise.all(
  Array.from({ length: inFlight }, async () => {
    while (next++ < evaluations) {
      const v = await sandbox.evaluate(input, 1000);
      if (v.kind !== 'order') throw new Error(JSON.stringify(v));
    }
  }),
);
const perSecond = evaluations / ((performance.now() - started) / 1000);
await sandbox.close();

console.log(`script policy, 4 candidates, ${evaluations} evaluations (order ${JSON.stringify(check.order)})`);
console.log(`  one at a time: p50 ${at(0.5)} µs, p90 ${at(0.9)} µs, p99 ${at(0.99)} µs per evaluation`);
console.log(
  `  ${inFlight} in flight: ${perSecond.toFixed(0)} evaluations/s (${(1e6 / perSecond).toFixed(0)} µs each)`,
);

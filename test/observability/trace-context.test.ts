// W3C Trace Context parsing and the pinned GenAI attribute names.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GEN_AI_BASELINE, GEN_AI_LATEST, genAiNames } from '../../src/observability/semconv.ts';
import { parseTraceparent } from '../../src/observability/tracing.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

describe('traceparent', () => {
  it('reads a valid header, its flags and its tracestate', () => {
    const p = parseTraceparent(`00-${TRACE}-${SPAN}-01`, 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE');
    assert.ok(p);
    assert.equal(Buffer.from(p.traceId).toString('hex'), TRACE);
    assert.equal(Buffer.from(p.spanId).toString('hex'), SPAN);
    assert.equal(p.flags, 1);
    assert.equal(p.traceState, 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE');
    assert.equal(parseTraceparent(`00-${TRACE}-${SPAN}-00`, undefined)?.flags, 0);
  });

  it('accepts a later version with more fields, refuses what the spec refuses', () => {
    assert.ok(parseTraceparent(`01-${TRACE}-${SPAN}-01-extra`, undefined));
    for (const bad of [
      undefined,
      '',
      `ff-${TRACE}-${SPAN}-01`,
      `00-${TRACE}-${SPAN}-01-extra`,
      `00-${'0'.repeat(32)}-${SPAN}-01`,
      `00-${TRACE}-${'0'.repeat(16)}-01`,
      `00-${TRACE.toUpperCase()}-${SPAN}-01`,
      `00-${TRACE.slice(1)}-${SPAN}-01`,
      `00-${TRACE}-${SPAN}-1`,
    ])
      assert.equal(parseTraceparent(bad, undefined), undefined, String(bad));
  });

  it('an oversized tracestate is dropped, the parent kept', () => {
    assert.equal(parseTraceparent(`00-${TRACE}-${SPAN}-01`, `a=${'x'.repeat(600)}`)?.traceState, '');
  });
});

describe('GenAI attribute names', () => {
  it('default to the v1.36.0 baseline; gen_ai_latest_experimental opts into the newest', () => {
    assert.equal(genAiNames({}).provider, 'gen_ai.system');
    assert.equal(genAiNames({ OTEL_SEMCONV_STABILITY_OPT_IN: 'http' }), GEN_AI_BASELINE);
    assert.equal(
      genAiNames({ OTEL_SEMCONV_STABILITY_OPT_IN: 'http, gen_ai_latest_experimental' }),
      GEN_AI_LATEST,
    );
    assert.equal(GEN_AI_LATEST.provider, 'gen_ai.provider.name');
    for (const names of [GEN_AI_BASELINE, GEN_AI_LATEST]) {
      assert.equal(names.inputTokens, 'gen_ai.usage.input_tokens');
      assert.equal(names.outputTokens, 'gen_ai.usage.output_tokens');
      assert.equal(names.finishReasons, 'gen_ai.response.finish_reasons');
    }
  });
});

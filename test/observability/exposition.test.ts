// The Prometheus registry: text format details (escaping, HELP/TYPE, cumulative buckets) and how
// series from several worker processes merge into the node's view.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Family, Registry } from '../../src/observability/exposition.ts';
import { parseExposition } from '../support/prometheus.ts';

const counter = () =>
  new Family({
    name: 'x_total',
    help: 'A "counter"\nwith \\ and a newline.',
    type: 'counter',
    labelNames: ['pool'],
  });

describe('Prometheus text exposition', () => {
  it('escapes label values and help text, and renders HELP and TYPE for families without series', () => {
    const c = counter();
    c.inc(['a"b\\c\nd']);
    c.inc(['a"b\\c\nd'], 2);
    const empty = new Family({
      name: 'y_total',
      help: 'Nothing yet.',
      type: 'counter',
      labelNames: ['pool'],
    });
    const text = new Registry([c, empty]).render();
    assert.equal(
      text,
      [
        '# HELP x_total A "counter"\\nwith \\\\ and a newline.',
        '# TYPE x_total counter',
        'x_total{pool="a\\"b\\\\c\\nd"} 3',
        '# HELP y_total Nothing yet.',
        '# TYPE y_total counter',
        '',
      ].join('\n'),
    );
    assert.equal(parseExposition(text).get('x_total', { pool: 'a"b\\c\nd' }), 3);
  });

  it('a histogram renders cumulative buckets, +Inf, sum and count', () => {
    const h = new Family({
      name: 'd_seconds',
      help: 'd',
      type: 'histogram',
      labelNames: ['p'],
      bounds: [0.1, 1],
    });
    for (const v of [0.05, 0.1, 0.5, 3]) h.observe(['x'], v);
    const m = parseExposition(new Registry([h]).render());
    assert.equal(m.get('d_seconds_bucket', { p: 'x', le: '0.1' }), 2, 'a value equal to a bound falls in it');
    assert.equal(m.get('d_seconds_bucket', { p: 'x', le: '1' }), 3);
    assert.equal(m.get('d_seconds_bucket', { p: 'x', le: '+Inf' }), 4);
    assert.equal(m.get('d_seconds_count', { p: 'x' }), 4);
    assert.equal(m.get('d_seconds_sum', { p: 'x' }), 3.65);
  });

  it('merging workers: counters and histograms add up, gauges follow their rule, series meet by labels', () => {
    const make = () => {
      const c = new Family({ name: 'c_total', help: 'c', type: 'counter', labelNames: ['k'] });
      const worst = new Family({ name: 'g_max', help: 'g', type: 'gauge', labelNames: ['k'], merge: 'max' });
      const soonest = new Family({
        name: 'g_min',
        help: 'g',
        type: 'gauge',
        labelNames: ['k'],
        merge: 'min',
      });
      const h = new Family({ name: 'h_seconds', help: 'h', type: 'histogram', labelNames: [], bounds: [1] });
      return { c, worst, soonest, h, registry: new Registry([c, worst, soonest, h]) };
    };
    const one = make();
    const two = make();
    one.c.inc(['a'], 2);
    two.c.inc(['a'], 3);
    two.c.inc(['b']);
    one.worst.set(['a'], 1);
    two.worst.set(['a'], 2);
    one.soonest.set(['a'], 500);
    two.soonest.set(['a'], 0);
    two.soonest.set(['b'], 7);
    one.h.observe([], 0.5);
    two.h.observe([], 2);
    const merged = make().registry.merged([
      one.registry.snapshot(),
      JSON.parse(JSON.stringify(two.registry.snapshot())),
    ]);
    const m = parseExposition(merged.render());
    assert.equal(m.get('c_total', { k: 'a' }), 5);
    assert.equal(m.get('c_total', { k: 'b' }), 1);
    assert.equal(m.get('g_max', { k: 'a' }), 2);
    assert.equal(m.get('g_min', { k: 'a' }), 0);
    assert.equal(m.get('g_min', { k: 'b' }), 7, 'a series only one worker has keeps its value');
    assert.equal(m.get('h_seconds_bucket', { le: '1' }), 1);
    assert.equal(m.get('h_seconds_bucket', { le: '+Inf' }), 2);
    assert.equal(m.get('h_seconds_sum'), 2.5);
    assert.equal(m.get('h_seconds_count'), 2);
  });

  it('scrape-time gauges refill on every render, so removed series disappear', () => {
    const g = new Family({ name: 'k_cents', help: 'k', type: 'gauge', labelNames: ['key'] });
    let keys = ['a', 'b'];
    g.collect = () => {
      g.clear();
      for (const k of keys) g.set([k], 1);
    };
    const registry = new Registry([g]);
    assert.equal(parseExposition(registry.render()).all('k_cents').length, 2);
    keys = ['b'];
    assert.deepEqual(
      parseExposition(registry.render())
        .all('k_cents')
        .map((s) => s.labels.key),
      ['b'],
    );
  });
});

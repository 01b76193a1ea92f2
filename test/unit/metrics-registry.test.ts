// The metrics registry: exact Prometheus text format 0.0.4, escaping, histograms, series cap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry, escapeLabelValue, formatValue } from '../../agent/metrics/registry';

test('renders counters, gauges and histograms in the text format, exactly', () => {
  const r = new Registry();
  const c = r.counter({
    name: 'x_total',
    help: 'Things.\nSecond line with a \\ backslash.',
    labelNames: ['job'],
  });
  c.inc({ job: 'a' });
  c.inc({ job: 'a' }, 2);
  c.inc({ job: 'we"ird\\name\nx' });
  let polled = 7;
  r.gauge({ name: 'g', help: 'Read at scrape time.', collect: () => polled });
  const s = r.gauge({ name: 's', help: 'Set.' });
  s.set(1.5);
  const h = r.histogram({ name: 'd_seconds', help: 'Durations.', labelNames: ['job'], buckets: [0.1, 1] });
  h.observe(0.05, { job: 'a' });
  h.observe(0.1, { job: 'a' }); // on the bound: counted in le="0.1"
  h.observe(3, { job: 'a' });
  const u = r.histogram({ name: 'u', help: 'Unlabelled, never observed.', buckets: [1] });
  assert.ok(u);

  assert.equal(
    r.render(),
    [
      '# HELP x_total Things.\\nSecond line with a \\\\ backslash.',
      '# TYPE x_total counter',
      'x_total{job="a"} 3',
      'x_total{job="we\\"ird\\\\name\\nx"} 1',
      '# HELP g Read at scrape time.',
      '# TYPE g gauge',
      'g 7',
      '# HELP s Set.',
      '# TYPE s gauge',
      's 1.5',
      '# HELP d_seconds Durations.',
      '# TYPE d_seconds histogram',
      'd_seconds_bucket{job="a",le="0.1"} 2',
      'd_seconds_bucket{job="a",le="1"} 2',
      'd_seconds_bucket{job="a",le="+Inf"} 3',
      'd_seconds_sum{job="a"} 3.15',
      'd_seconds_count{job="a"} 3',
      '# HELP u Unlabelled, never observed.',
      '# TYPE u histogram',
      'u_bucket{le="1"} 0',
      'u_bucket{le="+Inf"} 0',
      'u_sum 0',
      'u_count 0',
      '# HELP peppercorn_metrics_dropped_series_total Observations dropped because their metric reached its series limit.',
      '# TYPE peppercorn_metrics_dropped_series_total counter',
      '',
    ].join('\n'),
  );
  polled = 8;
  assert.match(r.render(), /^g 8$/m);
});

test('escaping and special values', () => {
  assert.equal(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
  assert.equal(formatValue(Infinity), '+Inf');
  assert.equal(formatValue(-Infinity), '-Inf');
  assert.equal(formatValue(NaN), 'NaN');
  assert.equal(formatValue(0.005), '0.005');
});

test('histogram buckets are cumulative across several series', () => {
  const r = new Registry();
  const h = r.histogram({ name: 'h', help: 'h', labelNames: ['k'], buckets: [1, 2, 5] });
  for (const v of [0.5, 1.5, 1.7, 4, 100]) h.observe(v, { k: 'x' });
  h.observe(2, { k: 'y' });
  const lines = r.render().split('\n');
  assert.deepEqual(
    lines.filter((l) => l.startsWith('h_')),
    [
      'h_bucket{k="x",le="1"} 1',
      'h_bucket{k="x",le="2"} 3',
      'h_bucket{k="x",le="5"} 4',
      'h_bucket{k="x",le="+Inf"} 5',
      'h_sum{k="x"} 107.7',
      'h_count{k="x"} 5',
      'h_bucket{k="y",le="1"} 0',
      'h_bucket{k="y",le="2"} 1',
      'h_bucket{k="y",le="5"} 1',
      'h_bucket{k="y",le="+Inf"} 1',
      'h_sum{k="y"} 2',
      'h_count{k="y"} 1',
    ],
  );
});

test('series beyond the cap are dropped and counted', () => {
  const r = new Registry({ maxSeries: 3 });
  const c = r.counter({ name: 'c_total', help: 'c', labelNames: ['job'] });
  const h = r.histogram({ name: 'h', help: 'h', labelNames: ['job'], buckets: [1] });
  for (let i = 0; i < 5; i++) c.inc({ job: `j${i}` });
  c.inc({ job: 'j0' }); // an existing series still counts
  for (let i = 0; i < 4; i++) h.observe(1, { job: `j${i}` });
  const text = r.render();
  assert.equal(text.match(/^c_total\{/gm)?.length, 3);
  assert.match(text, /^c_total\{job="j0"\} 2$/m);
  assert.doesNotMatch(text, /j3|j4/);
  assert.match(text, /^peppercorn_metrics_dropped_series_total\{metric="c_total"\} 2$/m);
  assert.match(text, /^peppercorn_metrics_dropped_series_total\{metric="h"\} 1$/m);
});

test('bad names, labels and values are refused', () => {
  const r = new Registry();
  assert.throws(() => r.counter({ name: 'bad-name', help: '' }), /bad metric name/);
  assert.throws(() => r.counter({ name: 'a', help: '', labelNames: ['1x'] }), /bad label name/);
  assert.throws(() => r.histogram({ name: 'h', help: '', labelNames: ['le'], buckets: [1] }), /reserved/);
  assert.throws(() => r.histogram({ name: 'h2', help: '', buckets: [2, 1] }), /ascending/);
  const c = r.counter({ name: 'ok_total', help: '', labelNames: ['job'] });
  assert.throws(() => r.counter({ name: 'ok_total', help: '' }), /already registered/);
  assert.throws(() => c.inc({ job: 'a' }, -1), /only goes up/);
  assert.throws(() => c.inc({}), /missing label "job"/);
  assert.throws(() => c.inc({ job: 'a', other: 'b' }), /unknown label "other"/);
});

// A small metrics registry rendering the Prometheus text exposition format 0.0.4:
// counters, gauges (set, or read by a callback at scrape time) and histograms with
// fixed buckets, all with labels. No dependency: the format is a few lines of text.
//
// Label cardinality is bounded: each metric holds at most `maxSeries` label sets; the
// observations of any further one are dropped and counted in
// peppercorn_metrics_dropped_series_total{metric="..."}, so a runaway label (a job
// name per run, say) costs a counter, never the agent's memory.

export type Labels = Record<string, string | number>;

export const DEFAULT_MAX_SERIES = 10_000;
export const DROPPED_SERIES_METRIC = 'peppercorn_metrics_dropped_series_total';

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Escapes a label value: backslash, double quote and line feed. */
export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** Escapes HELP text: backslash and line feed. */
export function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** A sample value as Prometheus writes it. */
export function formatValue(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}

function formatLabels(names: readonly string[], values: readonly string[], extra?: [string, string]): string {
  const parts = names.map((n, i) => `${n}="${escapeLabelValue(values[i])}"`);
  if (extra) parts.push(`${extra[0]}="${escapeLabelValue(extra[1])}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

interface MetricOptions {
  name: string;
  help: string;
  labelNames?: readonly string[];
}

abstract class Metric<S> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  protected readonly series = new Map<string, { values: string[]; state: S }>();

  constructor(
    opts: MetricOptions,
    readonly type: 'counter' | 'gauge' | 'histogram',
    private readonly limits: { maxSeries: number; onDrop: (metric: string) => void },
    reserved: readonly string[] = [],
  ) {
    if (!METRIC_NAME.test(opts.name)) throw new Error(`bad metric name "${opts.name}"`);
    const labelNames = opts.labelNames ?? [];
    for (const l of labelNames) {
      if (!LABEL_NAME.test(l) || l.startsWith('__')) throw new Error(`${opts.name}: bad label name "${l}"`);
      if (reserved.includes(l)) throw new Error(`${opts.name}: label name "${l}" is reserved`);
    }
    if (new Set(labelNames).size !== labelNames.length)
      throw new Error(`${opts.name}: duplicate label names`);
    this.name = opts.name;
    this.help = opts.help;
    this.labelNames = labelNames;
  }

  protected abstract initial(): S;

  /** The series for these labels, created on first use; undefined when over the series cap. */
  protected get(labels: Labels | undefined): S | undefined {
    const values = this.labelNames.map((n) => {
      const v = labels?.[n];
      if (v === undefined) throw new Error(`${this.name}: missing label "${n}"`);
      return String(v);
    });
    if (labels) {
      for (const k of Object.keys(labels))
        if (!this.labelNames.includes(k)) throw new Error(`${this.name}: unknown label "${k}"`);
    }
    const key = values.join('\u0000');
    let s = this.series.get(key);
    if (!s) {
      if (this.series.size >= this.limits.maxSeries) {
        this.limits.onDrop(this.name);
        return undefined;
      }
      s = { values, state: this.initial() };
      this.series.set(key, s);
    }
    return s.state;
  }

  /** Forgets every series (labelled metrics) or resets the one series (unlabelled). */
  reset(): void {
    this.series.clear();
    if (!this.labelNames.length) this.get(undefined);
  }

  protected header(): string[] {
    return [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`];
  }

  abstract render(): string[];
}

interface ScalarOptions extends MetricOptions {
  /** An unlabelled metric read at scrape time (e.g. from another component's stats). */
  collect?: () => number;
}

/** One number per series: what counters and gauges share. */
abstract class Scalar extends Metric<{ v: number }> {
  private readonly collect?: () => number;

  constructor(
    opts: ScalarOptions,
    type: 'counter' | 'gauge',
    limits: { maxSeries: number; onDrop: (metric: string) => void },
  ) {
    super(opts, type, limits);
    if (opts.collect && this.labelNames.length) throw new Error(`${opts.name}: collect needs no labels`);
    this.collect = opts.collect;
    if (!this.labelNames.length) this.get(undefined);
  }

  protected initial(): { v: number } {
    return { v: 0 };
  }

  /** Current value (0 for a series never seen). For tests and collectors. */
  value(labels?: Labels): number {
    if (this.collect) return this.collect();
    const key = this.labelNames.map((n) => String(labels?.[n])).join('\u0000');
    return this.series.get(key)?.state.v ?? 0;
  }

  render(): string[] {
    const out = this.header();
    if (this.collect) {
      out.push(`${this.name} ${formatValue(this.collect())}`);
      return out;
    }
    for (const { values, state } of this.series.values())
      out.push(`${this.name}${formatLabels(this.labelNames, values)} ${formatValue(state.v)}`);
    return out;
  }
}

export type CounterOptions = ScalarOptions;

export class Counter extends Scalar {
  constructor(opts: CounterOptions, limits: { maxSeries: number; onDrop: (metric: string) => void }) {
    super(opts, 'counter', limits);
  }

  inc(labels?: Labels, by = 1): void {
    if (!(by >= 0)) throw new Error(`${this.name}: a counter only goes up (inc by ${by})`);
    const s = this.get(labels);
    if (s) s.v += by;
  }
}

export type GaugeOptions = ScalarOptions;

export class Gauge extends Scalar {
  constructor(opts: GaugeOptions, limits: { maxSeries: number; onDrop: (metric: string) => void }) {
    super(opts, 'gauge', limits);
  }

  set(value: number, labels?: Labels): void {
    const s = this.get(labels);
    if (s) s.v = value;
  }

  inc(labels?: Labels, by = 1): void {
    const s = this.get(labels);
    if (s) s.v += by;
  }

  dec(labels?: Labels, by = 1): void {
    this.inc(labels, -by);
  }
}

export interface HistogramOptions extends MetricOptions {
  /** Upper bounds, ascending; +Inf is implied. */
  buckets: readonly number[];
}

interface HistogramState {
  counts: number[];
  sum: number;
  count: number;
}

export class Histogram extends Metric<HistogramState> {
  readonly buckets: readonly number[];

  constructor(opts: HistogramOptions, limits: { maxSeries: number; onDrop: (metric: string) => void }) {
    super(opts, 'histogram', limits, ['le']);
    const b = opts.buckets.filter((x) => x !== Infinity);
    if (!b.length) throw new Error(`${opts.name}: needs at least one bucket`);
    for (let i = 0; i < b.length; i++) {
      if (!Number.isFinite(b[i])) throw new Error(`${opts.name}: bucket ${b[i]} is not a number`);
      if (i && b[i] <= b[i - 1]) throw new Error(`${opts.name}: buckets must be strictly ascending`);
    }
    this.buckets = b;
    if (!this.labelNames.length) this.get(undefined);
  }

  protected initial(): HistogramState {
    return { counts: this.buckets.map(() => 0), sum: 0, count: 0 };
  }

  observe(value: number, labels?: Labels): void {
    if (Number.isNaN(value)) return;
    const s = this.get(labels);
    if (!s) return;
    // Non-cumulative counts here; render() accumulates.
    const i = this.buckets.findIndex((le) => value <= le);
    if (i >= 0) s.counts[i]++;
    s.sum += value;
    s.count++;
  }

  /** { count, sum } of a series, for tests. */
  snapshot(labels?: Labels): { count: number; sum: number } {
    const key = this.labelNames.map((n) => String(labels?.[n])).join('\u0000');
    const s = this.series.get(key)?.state;
    return { count: s?.count ?? 0, sum: s?.sum ?? 0 };
  }

  render(): string[] {
    const out = this.header();
    for (const { values, state } of this.series.values()) {
      let cum = 0;
      this.buckets.forEach((le, i) => {
        cum += state.counts[i];
        out.push(
          `${this.name}_bucket${formatLabels(this.labelNames, values, ['le', formatValue(le)])} ${cum}`,
        );
      });
      out.push(`${this.name}_bucket${formatLabels(this.labelNames, values, ['le', '+Inf'])} ${state.count}`);
      out.push(`${this.name}_sum${formatLabels(this.labelNames, values)} ${formatValue(state.sum)}`);
      out.push(`${this.name}_count${formatLabels(this.labelNames, values)} ${state.count}`);
    }
    return out;
  }
}

export class Registry {
  private readonly metrics = new Map<string, Metric<unknown>>();
  private readonly maxSeries: number;
  /** Observations dropped because a metric reached its series cap, by metric. */
  readonly droppedSeries: Counter;

  constructor(opts: { maxSeries?: number } = {}) {
    this.maxSeries = opts.maxSeries ?? DEFAULT_MAX_SERIES;
    // Its own label set is bounded by the number of metrics, so it is never capped.
    this.droppedSeries = new Counter(
      {
        name: DROPPED_SERIES_METRIC,
        help: 'Observations dropped because their metric reached its series limit.',
        labelNames: ['metric'],
      },
      { maxSeries: Infinity, onDrop: () => undefined },
    );
  }

  private limits() {
    return {
      maxSeries: this.maxSeries,
      onDrop: (metric: string) => this.droppedSeries.inc({ metric }),
    };
  }

  private add<M extends Metric<unknown>>(m: M): M {
    if (this.metrics.has(m.name) || m.name === DROPPED_SERIES_METRIC)
      throw new Error(`metric ${m.name} is already registered`);
    this.metrics.set(m.name, m);
    return m;
  }

  counter(opts: CounterOptions): Counter {
    return this.add(new Counter(opts, this.limits()));
  }

  gauge(opts: GaugeOptions): Gauge {
    return this.add(new Gauge(opts, this.limits()));
  }

  histogram(opts: HistogramOptions): Histogram {
    return this.add(new Histogram(opts, this.limits()));
  }

  /** Every metric in registration order, then the dropped-series counter; ends with a newline. */
  render(): string {
    const lines: string[] = [];
    for (const m of this.metrics.values()) lines.push(...m.render());
    lines.push(...this.droppedSeries.render());
    return lines.join('\n') + '\n';
  }
}

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

// A small Prometheus registry: counters, gauges read at scrape time, and histograms, rendered in the
// text exposition format 0.0.4. No dependency: the server needs a few dozen series, not a client library.

type Labels = Record<string, string>;

interface Series<T> {
  labels: Labels;
  value: T;
}

const key = (l: Labels) => JSON.stringify(Object.entries(l).sort());
const fmtLabels = (l: Labels) => {
  const e = Object.entries(l);
  return e.length
    ? `{${e.map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`).join(',')}}`
    : '';
};

export class Counter {
  private readonly series = new Map<string, Series<number>>();
  inc(labels: Labels = {}, n = 1): void {
    const k = key(labels);
    const s = this.series.get(k);
    if (s) s.value += n;
    else this.series.set(k, { labels, value: n });
  }
  /** @internal */
  samples(): Series<number>[] {
    return [...this.series.values()];
  }
}

export class Histogram {
  private readonly series = new Map<string, Series<{ counts: number[]; sum: number; count: number }>>();
  constructor(readonly buckets: number[]) {}
  observe(labels: Labels, v: number): void {
    const k = key(labels);
    let s = this.series.get(k);
    if (!s) this.series.set(k, (s = { labels, value: { counts: this.buckets.map(() => 0), sum: 0, count: 0 } }));
    for (let i = 0; i < this.buckets.length; i++) if (v <= this.buckets[i]!) s.value.counts[i]!++;
    s.value.sum += v;
    s.value.count++;
  }
  /** @internal */
  samples(): Series<{ counts: number[]; sum: number; count: number }>[] {
    return [...this.series.values()];
  }
}

type Collect = () => number | [Labels, number][];

export class MetricsRegistry {
  private readonly entries: { name: string; help: string; type: 'counter' | 'gauge' | 'histogram'; render: () => string[] }[] = [];

  /** A counter; the name should end in `_total`. */
  counter(name: string, help: string): Counter {
    const c = new Counter();
    this.entries.push({ name, help, type: 'counter', render: () => c.samples().map((s) => `${name}${fmtLabels(s.labels)} ${s.value}`) });
    return c;
  }

  /** A value read when scraped: a number, or labelled numbers. Use type 'counter' for monotonic values kept elsewhere. */
  gauge(name: string, help: string, collect: Collect, type: 'gauge' | 'counter' = 'gauge'): void {
    this.entries.push({
      name,
      help,
      type,
      render: () => {
        const v = collect();
        return typeof v === 'number' ? [`${name} ${v}`] : v.map(([l, n]) => `${name}${fmtLabels(l)} ${n}`);
      },
    });
  }

  /** A histogram with upper bounds `buckets` (seconds for latencies). */
  histogram(name: string, help: string, buckets: number[]): Histogram {
    const h = new Histogram(buckets);
    this.entries.push({
      name,
      help,
      type: 'histogram',
      render: () =>
        h
          .samples()
          .flatMap((s) => [
            ...h.buckets.map((b, i) => `${name}_bucket${fmtLabels({ ...s.labels, le: String(b) })} ${s.value.counts[i]}`),
            `${name}_bucket${fmtLabels({ ...s.labels, le: '+Inf' })} ${s.value.count}`,
            `${name}_sum${fmtLabels(s.labels)} ${s.value.sum}`,
            `${name}_count${fmtLabels(s.labels)} ${s.value.count}`,
          ]),
    });
    return h;
  }

  /** The text exposition of every metric. */
  render(): string {
    return `${this.entries.map((e) => [`# HELP ${e.name} ${e.help}`, `# TYPE ${e.name} ${e.type}`, ...e.render()].join('\n')).join('\n')}\n`;
  }
}

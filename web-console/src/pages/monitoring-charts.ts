// The monitoring charts of one series set: drift per feature, latency, estimated versus field accuracy,
// traffic, prediction mix and confidence.
import { h } from 'preact';
import type { DriftConfig, Series } from '../api/types.ts';
import { BarChart } from '../components/charts/bar-chart.ts';
import { Histogram } from '../components/charts/histogram.ts';
import { LineChart, type LineSeries } from '../components/charts/line-chart.ts';
import { Section } from '../components/page-header.ts';
import { num, pct } from '../format.ts';

const x = (t: string) => Date.parse(t);
/** Model key of windows sent while no model was active (server: monitoring/rollup.ts NO_MODEL). */
const NO_MODEL = '(none)';
/** Fewest rows a bucket's drift point needs to be drawn. */
const MIN_DRIFT_ROWS = 50;

export function MonitoringCharts({ series: all, config }: { series: Series[]; config: DriftConfig | null }) {
  const series = all.filter((s) => s.model !== NO_MODEL || s.points.some((p) => (p.requests ?? 0) > 0));
  if (series.every((s) => s.points.length === 0))
    return h(
      'p',
      { class: 'notice muted' },
      'No telemetry in this range for this scope. Devices send summaries every window; they show up here within a minute of arriving.',
    );
  const many = series.length > 1;
  const name = (s: Series, what: string) => (many ? `${what} ${s.model}` : what);
  const drift: LineSeries[] = [];
  for (const s of series) {
    const features = [...new Set(s.points.flatMap((p) => Object.keys(p.drift ?? {})))].sort();
    // A bucket of a few rows (a rollout's self-tests, a minute with little traffic) has a PSI that is noise, and
    // one such point would flatten the real line: left out, as the detector waits for its 200-sample windows.
    const psiOf = (d: { psi: number; n: number } | undefined) => (d && d.n >= MIN_DRIFT_ROWS ? d.psi : null);
    for (const f of features)
      drift.push({
        name: many ? `${f} (${s.model})` : f,
        points: s.points.map((p) => ({ x: x(p.t), y: psiOf(p.drift?.[f]) })),
        dashed: f.startsWith('@'),
      });
  }
  const latency = series.flatMap((s) => [
    { name: name(s, 'p50'), points: s.points.map((p) => ({ x: x(p.t), y: p.latency?.p50 ?? null })) },
    { name: name(s, 'p95'), points: s.points.map((p) => ({ x: x(p.t), y: p.latency?.p95 ?? null })) },
    { name: name(s, 'p99'), points: s.points.map((p) => ({ x: x(p.t), y: p.latency?.p99 ?? null })), dashed: true },
  ]);
  const accuracy = series.flatMap((s) => [
    {
      name: name(s, 'estimated (from confidence)'),
      points: s.points.map((p) => ({ x: x(p.t), y: p.estimatedAccuracy?.estimate ?? null })),
      dashed: true,
    },
    { name: name(s, 'field (from labels)'), points: s.points.map((p) => ({ x: x(p.t), y: p.fieldAccuracy?.overall?.estimate ?? null })) },
  ]);
  const traffic = series.flatMap((s) => [
    { name: name(s, 'requests'), points: s.points.map((p) => ({ x: x(p.t), y: p.requests ?? null })) },
    { name: name(s, 'errors'), points: s.points.map((p) => ({ x: x(p.t), y: p.errors?.count ?? null })) },
  ]);
  // The mix of predictions and the confidence histogram over the whole range, for the model that answered most.
  // Windows sent while no model was active ('(none)', the server's NO_MODEL) answered nothing: never shown here.
  const answered = (s: Series) => s.points.reduce((n, p) => n + (p.predictions?.counts.reduce((a, b) => a + b, 0) ?? 0), 0);
  const first = series.filter((s) => s.model !== NO_MODEL).sort((a, b) => answered(b) - answered(a))[0] ?? series[0]!;
  const labels = first.points.find((p) => p.predictions?.labels)?.predictions?.labels ?? null;
  const mix: number[] = [];
  for (const p of first.points) p.predictions?.counts.forEach((c, i) => (mix[i] = (mix[i] ?? 0) + c));
  const hist = first.points.map((p) => p.confidence?.histogram).filter((hh): hh is NonNullable<typeof hh> => !!hh);
  const conf = hist.length
    ? { edges: hist[0]!.edges, counts: hist[0]!.counts.map((_, i) => hist.reduce((a, hh) => a + (hh.counts[i] ?? 0), 0)) }
    : null;
  const thresholds = config
    ? [
        { y: config.psiWarn, label: `warn ${config.psiWarn}`, tone: 'warn' as const },
        { y: config.psiAlert, label: `alert ${config.psiAlert}`, tone: 'bad' as const },
      ]
    : [];
  return h(
    'div',
    null,
    h(
      Section,
      { title: 'Drift per feature (PSI against the reference)', id: 'drift-chart' },
      drift.length
        ? h(LineChart, {
            label: 'Population stability index per feature over time',
            series: drift,
            thresholds,
            yMin: 0,
            height: 220,
            y: (v) => num(v, 2),
          })
        : h('p', { class: 'notice muted' }, 'No drift figures: the model has no reference profile, or no feature counts arrived.'),
    ),
    h(
      'div',
      { class: 'grid-2' },
      h(
        Section,
        { title: 'Estimated versus field accuracy' },
        h(LineChart, {
          label: 'Accuracy estimated from confidence, and measured on labelled field samples',
          series: accuracy,
          y: (v) => pct(v, 0),
        }),
      ),
      h(Section, { title: 'Latency (ms)' }, h(LineChart, { label: 'Inference latency percentiles', series: latency })),
    ),
    h(
      'div',
      { class: 'grid-3' },
      h(Section, { title: 'Requests and errors' }, h(LineChart, { label: 'Requests and errors per bucket', series: traffic, height: 160 })),
      h(
        Section,
        { title: `Predictions · ${first.model}` },
        h(BarChart, {
          label: 'Predicted classes over the range',
          bars: mix.map((c, i) => ({ label: labels?.[i] ?? `class ${i}`, value: c })),
        }),
      ),
      h(
        Section,
        { title: `Confidence · ${first.model}` },
        conf
          ? h(Histogram, { label: 'Top-1 confidence over the range', edges: conf.edges, counts: conf.counts, format: (e) => num(e, 1) })
          : h('p', { class: 'notice muted' }, 'No confidence histogram.'),
      ),
    ),
  );
}

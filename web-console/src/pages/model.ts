// One model: its versions with metrics and aliases, the selected version's lineage graph, per-class
// metrics, confusion matrix and quantization report, and two versions' runs compared side by side.
import { h } from 'preact';
import { useState } from 'preact/hooks';
import { createBundle } from '../api/fleet.ts';
import { exportVersion, getDataset, getModel, getRun } from '../api/registry.ts';
import { useResource } from '../api/use-resource.ts';
import type { AliasMove, ModelVersion, QuantizationReport } from '../api/types.ts';
import { ActionButton } from '../components/action-button.ts';
import { BarChart } from '../components/charts/bar-chart.ts';
import { LineChart } from '../components/charts/line-chart.ts';
import { ConfusionMatrix } from '../components/confusion-matrix.ts';
import { DataTable } from '../components/data-table.ts';
import { LineageGraph } from '../components/lineage-graph.ts';
import { guard } from '../components/notices.ts';
import { PageHeader, Section } from '../components/page-header.ts';
import { QuantizationReportView } from '../components/quantization-report.ts';
import { StatusBadge } from '../components/status-badge.ts';
import { ago, num, pct, stamp } from '../format.ts';
import { href, navigate } from '../router.ts';
import { AliasPanel } from './alias-editor.ts';
import { loadLineage } from './model-lineage.ts';

const metric = (v: ModelVersion, k: string) => (typeof v.metrics?.[k] === 'number' ? (v.metrics[k] as number) : null);

function VersionDetail({ v, onChange }: { v: ModelVersion; onChange(): void }) {
  const lineage = useResource(() => loadLineage(v), [v.model, v.version, Boolean(v.quantization)]);
  // Class names live with the dataset the run trained on.
  const names = useResource(
    () =>
      v.runId
        ? getRun(v.runId)
            .then((r) => getDataset(r.datasetDigest))
            .then((d) => d.classes)
        : Promise.resolve([]),
    [v.runId],
  );
  const per = (v.metrics?.perClass ?? []) as { class: number; f1: number; precision: number; recall: number; support: number }[];
  const classes = names.data?.length
    ? names.data
    : ((v.signature as { labels?: string[] } | null)?.labels ?? per.map((p) => String(p.class)));
  const confusion = v.metrics?.confusion as number[][] | undefined;
  const latency = v.metrics?.latency as { batch1P50Ms?: number; batch1P95Ms?: number } | undefined;
  return h(
    'div',
    null,
    h(
      Section,
      {
        title: `Lineage of v${v.version}`,
        id: 'lineage',
        actions:
          v.artifacts['model.onnx'] || v.artifacts['model.int8.onnx']
            ? h(ActionButton, { label: 'Make bundle', run: () => createBundle(`${v.model}@${v.version}`), onDone: lineage.reload })
            : null,
      },
      guard(lineage, 'Lineage', (l) => h(LineageGraph, { ...l, label: `Lineage of ${v.model} v${v.version}` })),
    ),
    h(
      'div',
      { class: 'grid-3' },
      h(
        Section,
        { title: 'Metrics (test split)' },
        h(
          'dl',
          { class: 'kv' },
          h('dt', null, 'Accuracy'),
          h('dd', null, pct(metric(v, 'accuracy'), 2)),
          h('dt', null, 'Macro F1'),
          h('dd', null, num(metric(v, 'macroF1'), 3)),
          h('dt', null, 'Log loss'),
          h('dd', null, num(metric(v, 'logLoss'), 3)),
          h('dt', null, 'Calibration error'),
          h('dd', null, num(metric(v, 'ece'), 3)),
          h('dt', null, 'Latency p50 / p95'),
          h('dd', null, latency ? `${num(latency.batch1P50Ms, 2)} / ${num(latency.batch1P95Ms, 2)} ms` : '–'),
          h('dt', null, 'Test samples'),
          h('dd', null, num(metric(v, 'testSamples') ?? metric(v, 'n'))),
        ),
      ),
      h(
        Section,
        { title: 'F1 per class' },
        per.length
          ? h(BarChart, {
              label: 'F1 score per class',
              max: 1,
              format: (x) => num(x, 2),
              bars: per.map((p) => ({
                label: classes[p.class] ?? String(p.class),
                value: p.f1,
                tone: p.f1 < 0.5 ? ('bad' as const) : ('info' as const),
              })),
            })
          : h('p', { class: 'notice muted' }, 'No per-class metrics.'),
      ),
      h(
        Section,
        { title: 'Confusion matrix' },
        confusion ? h(ConfusionMatrix, { matrix: confusion, labels: classes }) : h('p', { class: 'notice muted' }, 'Not recorded.'),
      ),
    ),
    h(
      Section,
      {
        title: 'Quantization report',
        id: 'quantization',
        actions:
          v.format === 'tfjs'
            ? h(ActionButton, {
                label: v.quantization ? 'Export again' : 'Export to ONNX + int8',
                confirm: {
                  title: `Export v${v.version} to ONNX and int8?`,
                  body: 'Converts the trained model to ONNX, quantizes it to int8 calibrated on its training data, and compares the two on held-out samples (the parity gate). It takes a few seconds.',
                  confirmLabel: 'Export',
                  reason: false,
                },
                run: () => exportVersion(v.model, v.version),
                onDone: onChange,
              })
            : null,
      },
      h(QuantizationReportView, { report: v.quantization as Partial<QuantizationReport> | null }),
    ),
  );
}

export function ModelPage({ name, query }: { name: string; query: URLSearchParams }) {
  const model = useResource(() => getModel(name), [name], 15_000);
  const [picked, setPicked] = useState<number[]>([]);
  return h(
    'div',
    { class: 'page' },
    guard(model, 'Model', (m) => {
      const selected = m.versions.find((v) => String(v.version) === query.get('v')) ?? m.versions[0]!;
      const runOf = (n: number) => m.versions.find((v) => v.version === n)?.runId;
      const compare =
        picked.length === 2 && runOf(picked[0]!) && runOf(picked[1]!)
          ? href(['runs', 'compare'], { a: runOf(picked[0]!), b: runOf(picked[1]!) })
          : null;
      const toggle = (n: number) => setPicked((p) => (p.includes(n) ? p.filter((x) => x !== n) : [...p, n].slice(-2)));
      const history = [...m.versions].reverse();
      return h(
        'div',
        null,
        h(PageHeader, {
          crumbs: [{ label: 'Models', href: href('models') }],
          title: m.name,
          sub: `${m.versions.length} version${m.versions.length === 1 ? '' : 's'} · newest ${ago(m.versions[0]?.createdAt)}`,
          actions: [
            compare
              ? h('a', { class: 'btn btn-primary', href: compare, key: 'c' }, `Compare v${picked[0]} and v${picked[1]}`)
              : h('span', { class: 'muted small', key: 'h' }, 'Tick two versions to compare their runs.'),
            h('a', { class: 'btn', href: href(['rollouts', 'new'], { model: m.name }), key: 'r' }, 'Roll out…'),
          ],
        }),
        h(
          'div',
          { class: 'grid-2 wide-left' },
          h(
            Section,
            { title: 'Versions' },
            h(DataTable<ModelVersion>, {
              caption: `Versions of ${m.name}`,
              rows: m.versions,
              rowKey: (v) => String(v.version),
              rowClass: (v) => (v.version === selected.version ? 'selected' : undefined),
              columns: [
                {
                  label: 'Compare',
                  cell: (v) =>
                    h('input', {
                      type: 'checkbox',
                      checked: picked.includes(v.version),
                      disabled: !v.runId,
                      onChange: () => toggle(v.version),
                      'aria-label': `Pick v${v.version} to compare`,
                    }),
                },
                {
                  label: 'Version',
                  cell: (v) =>
                    h(
                      'a',
                      {
                        href: href(['models', m.name], { v: v.version }),
                        onClick: (e: Event) => {
                          e.preventDefault();
                          navigate(href(['models', m.name], { v: v.version }), true);
                        },
                      },
                      `v${v.version}`,
                    ),
                },
                {
                  label: 'Aliases',
                  cell: (v) =>
                    h(
                      'span',
                      { class: 'chips' },
                      v.aliases.map((a) => h('span', { key: a, class: 'chip alias' }, a)),
                    ),
                },
                { label: 'Accuracy', cell: (v) => pct(metric(v, 'accuracy')), class: 'num' },
                { label: 'Macro F1', cell: (v) => num(metric(v, 'macroF1'), 3), class: 'num hide-narrow' },
                {
                  label: 'int8',
                  cell: (v) => (v.quantization ? h(StatusBadge, { state: 'ok', label: 'yes' }) : h('span', { class: 'muted' }, 'no')),
                },
                {
                  label: 'Run',
                  cell: (v) => (v.runId ? h('a', { class: 'mono', href: href('training', { run: v.runId }) }, v.runId) : v.format),
                  class: 'hide-narrow',
                },
                { label: 'Created', cell: (v) => h('span', { title: stamp(v.createdAt) }, ago(v.createdAt)), class: 'hide-narrow' },
              ],
            }),
          ),
          h(
            'div',
            null,
            h(Section, { title: 'Aliases', id: 'aliases' }, h(AliasPanel, { model: m.name, versions: m.versions, onMoved: model.reload })),
            history.length > 1
              ? h(
                  Section,
                  { title: 'Accuracy by version' },
                  h(LineChart, {
                    label: 'Test accuracy by version',
                    x: 'number',
                    xLabel: (x) => `v${x}`,
                    y: (v) => pct(v, 0),
                    height: 140,
                    series: [
                      { name: 'accuracy', points: history.map((v) => ({ x: v.version, y: metric(v, 'accuracy') })) },
                      { name: 'macro F1', points: history.map((v) => ({ x: v.version, y: metric(v, 'macroF1') })), dashed: true },
                    ],
                  }),
                )
              : null,
          ),
        ),
        h(VersionDetail, { v: selected, key: selected.version, onChange: model.reload }),
        m.aliasHistory.length
          ? h(
              Section,
              { title: 'Alias history' },
              h(DataTable<AliasMove>, {
                caption: 'Alias moves, newest first',
                rows: [...m.aliasHistory].reverse(),
                rowKey: (a) => `${a.alias}${a.at}`,
                columns: [
                  { label: 'When', cell: (a) => h('span', { title: stamp(a.at) }, ago(a.at)) },
                  { label: 'Alias', cell: (a) => h('span', { class: 'chip alias' }, a.alias) },
                  { label: 'Move', cell: (a) => `${a.fromVersion === null ? 'new' : `v${a.fromVersion}`} → v${a.toVersion}` },
                  { label: 'By', cell: (a) => a.actor },
                  { label: 'Why', cell: (a) => a.reason },
                ],
              }),
            )
          : null,
      );
    }),
  );
}

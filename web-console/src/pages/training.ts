// Training: start a run or a sweep, watch a run live (SSE), follow a sweep's ranking, and pick two
// recent runs to compare.
import { h } from 'preact';
import { useState } from 'preact/hooks';
import { getSweep, listDatasets, listRuns } from '../api/registry.ts';
import { useCan } from '../api/session.ts';
import { useResource } from '../api/use-resource.ts';
import type { RankedTrial, Run } from '../api/types.ts';
import { DataTable } from '../components/data-table.ts';
import { guard } from '../components/notices.ts';
import { PageHeader, Section } from '../components/page-header.ts';
import { StatusBadge } from '../components/status-badge.ts';
import { ago, pct } from '../format.ts';
import { href } from '../router.ts';
import { RunLive } from './run-live.ts';
import { TrainingForms } from './training-forms.ts';

const lastVal = (r: Run) => r.history.at(-1)?.valAccuracy ?? null;

function SweepView({ id }: { id: string }) {
  const s = useResource(() => getSweep(id), [id], 3_000);
  return h(
    Section,
    {
      title: h('span', null, 'Sweep ', h('span', { class: 'mono' }, id)),
      id: 'sweep',
      actions: s.data ? h(StatusBadge, { state: s.data.sweep.status }) : null,
    },
    guard(s, 'Sweep', (d) =>
      h(DataTable<RankedTrial>, {
        caption: 'Trials ranked by validation accuracy',
        rows: d.trials,
        rowKey: (t) => t.runId,
        rowClass: (t) => (t.rank === 1 && t.valAccuracy !== null ? 'selected' : undefined),
        columns: [
          { label: 'Rank', cell: (t) => String(t.rank), class: 'num' },
          { label: 'Run', cell: (t) => h('a', { class: 'mono', href: href('training', { run: t.runId }) }, t.runId) },
          { label: 'Status', cell: (t) => h(StatusBadge, { state: t.status }) },
          {
            label: 'Settings',
            cell: (t) =>
              h(
                'span',
                { class: 'mono small' },
                Object.entries(t.hyper)
                  .filter(([k]) => ['learningRate', 'batchSize', 'epochs', 'optimizer'].includes(k))
                  .map(([k, v]) => `${k}=${v}`)
                  .join(' '),
              ),
          },
          { label: 'Val accuracy', cell: (t) => pct(t.valAccuracy), class: 'num' },
          { label: 'Test accuracy', cell: (t) => pct(t.testAccuracy), class: 'num' },
        ],
      }),
    ),
  );
}

function RecentRuns() {
  const runs = useResource(() => listRuns({ limit: 30 }), [], 5_000);
  const [picked, setPicked] = useState<string[]>([]);
  const toggle = (id: string) => setPicked((p) => (p.includes(id) ? p.filter((x) => x !== id) : [...p, id].slice(-2)));
  return h(
    Section,
    {
      title: 'Recent runs',
      actions:
        picked.length === 2
          ? h('a', { class: 'btn btn-primary', href: href(['runs', 'compare'], { a: picked[0], b: picked[1] }) }, 'Compare the two')
          : h('span', { class: 'muted small' }, 'Tick two runs to compare them.'),
    },
    guard(runs, 'Runs', (list) =>
      h(DataTable<Run>, {
        caption: 'Recent training runs',
        rows: list,
        rowKey: (r) => r.id,
        empty: 'No runs yet.',
        columns: [
          {
            label: 'Compare',
            cell: (r) =>
              h('input', {
                type: 'checkbox',
                checked: picked.includes(r.id),
                onChange: () => toggle(r.id),
                'aria-label': `Pick run ${r.id} to compare`,
              }),
          },
          { label: 'Run', cell: (r) => h('a', { class: 'mono', href: href('training', { run: r.id }) }, r.id) },
          { label: 'Model', cell: (r) => h('a', { href: href(['models', r.model]) }, r.model) },
          { label: 'Dataset', cell: (r) => r.datasetName, class: 'hide-narrow' },
          { label: 'Status', cell: (r) => h(StatusBadge, { state: r.status }) },
          { label: 'Epochs', cell: (r) => `${r.history.length}/${(r.hyper as { epochs?: number }).epochs ?? '?'}`, class: 'num' },
          { label: 'Val accuracy', cell: (r) => pct(lastVal(r)), class: 'num' },
          {
            label: 'Sweep',
            cell: (r) => (r.sweepId ? h('a', { class: 'mono', href: href('training', { sweep: r.sweepId }) }, r.sweepId) : '–'),
            class: 'hide-narrow',
          },
          { label: 'Started', cell: (r) => ago(r.startedAt ?? r.createdAt), class: 'hide-narrow' },
        ],
      }),
    ),
  );
}

export function TrainingPage({ query }: { query: URLSearchParams }) {
  const can = useCan('operator');
  const datasets = useResource(listDatasets, []);
  const run = query.get('run');
  const sweep = query.get('sweep');
  return h(
    'div',
    { class: 'page' },
    h(PageHeader, { title: 'Training', sub: 'Train on a dataset version, watch it learn, and promote the result.' }),
    run ? h(RunLive, { id: run, key: run }) : null,
    sweep ? h(SweepView, { id: sweep, key: sweep }) : null,
    can
      ? h(
          Section,
          { title: 'Start training', id: 'start' },
          guard(datasets, 'Datasets', (d) => h(TrainingForms, { datasets: d })),
        )
      : h('p', { class: 'notice muted' }, 'You are signed in as a viewer: you can watch runs, but starting one needs an operator token.'),
    h(RecentRuns, null),
  );
}

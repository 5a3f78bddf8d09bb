// Two training runs side by side: their learning curves on one chart, and every parameter, lineage
// field and metric in two columns with the differences marked.
import { h } from 'preact';
import { useState } from 'preact/hooks';
import { compareRuns, getRun, listRuns } from '../api/registry.ts';
import { useResource } from '../api/use-resource.ts';
import type { ComparisonRow, Run } from '../api/types.ts';
import { LineChart } from '../components/charts/line-chart.ts';
import { DataTable } from '../components/data-table.ts';
import { Field } from '../components/field.ts';
import { guard } from '../components/notices.ts';
import { PageHeader, Section } from '../components/page-header.ts';
import { num, pct } from '../format.ts';
import { href, navigate } from '../router.ts';

function show(v: unknown): string {
  if (v === null || v === undefined) return '–';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : num(v, 4);
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function Pickers({ a, b }: { a: string; b: string }) {
  const runs = useResource(() => listRuns({ limit: 100 }), []);
  const pick = (which: 'a' | 'b', id: string) =>
    navigate(href(['runs', 'compare'], { a: which === 'a' ? id : a, b: which === 'b' ? id : b }), true);
  const options = (runs.data ?? []).filter((r) => r.status === 'succeeded');
  const sel = (which: 'a' | 'b', value: string) =>
    h(
      Field,
      { label: `Run ${which.toUpperCase()}`, inline: true },
      h(
        'select',
        { name: which, value, onChange: (e: Event) => pick(which, (e.currentTarget as HTMLSelectElement).value) },
        h('option', { value: '' }, 'choose a run'),
        options.map((r) =>
          h('option', { key: r.id, value: r.id }, `${r.id} · ${r.model} · ${pct(r.metrics?.accuracy as number | undefined)}`),
        ),
      ),
    );
  return h(
    'form',
    { class: 'filters card', onSubmit: (e: Event) => e.preventDefault(), 'aria-label': 'Runs to compare' },
    sel('a', a),
    sel('b', b),
  );
}

async function load(a: string, b: string): Promise<{ rows: ComparisonRow[]; ra: Run; rb: Run }> {
  const [cmp, ra, rb] = await Promise.all([compareRuns(a, b), getRun(a), getRun(b)]);
  return { rows: cmp.rows, ra, rb };
}

export function RunsComparePage({ query }: { query: URLSearchParams }) {
  const a = query.get('a') ?? '';
  const b = query.get('b') ?? '';
  const [onlyDiff, setOnlyDiff] = useState(false);
  const data = useResource(() => (a && b ? load(a, b) : Promise.resolve(null)), [a, b]);
  return h(
    'div',
    { class: 'page' },
    h(PageHeader, {
      crumbs: [{ label: 'Training', href: href('training') }],
      title: 'Compare runs',
      sub: 'Learning curves, parameters, lineage and metrics of two runs side by side.',
    }),
    h(Pickers, { a, b }),
    !a || !b
      ? h('p', { class: 'notice muted' }, 'Choose two runs.')
      : guard(data, 'Comparison', (d) => {
          if (!d) return null;
          const curve = (r: Run, k: 'valAccuracy' | 'loss' | 'valLoss' | 'accuracy') => r.history.map((e) => ({ x: e.epoch, y: e[k] }));
          const differing = d.rows.filter((r) => r.differs).length;
          return h(
            'div',
            null,
            h(
              'div',
              { class: 'grid-2' },
              h(
                Section,
                { title: 'Validation accuracy by epoch' },
                h(LineChart, {
                  label: 'Validation accuracy by epoch',
                  x: 'number',
                  xLabel: (x) => `epoch ${x}`,
                  y: (v) => pct(v, 0),
                  series: [
                    { name: `A ${a}`, points: curve(d.ra, 'valAccuracy') },
                    { name: `B ${b}`, points: curve(d.rb, 'valAccuracy'), color: 1 },
                  ],
                }),
              ),
              h(
                Section,
                { title: 'Loss by epoch' },
                h(LineChart, {
                  label: 'Training and validation loss by epoch',
                  x: 'number',
                  xLabel: (x) => `epoch ${x}`,
                  series: [
                    { name: 'A train', points: curve(d.ra, 'loss'), color: 0 },
                    { name: 'B train', points: curve(d.rb, 'loss'), color: 1 },
                    { name: 'A val', points: curve(d.ra, 'valLoss'), dashed: true, color: 0 },
                    { name: 'B val', points: curve(d.rb, 'valLoss'), dashed: true, color: 1 },
                  ],
                }),
              ),
            ),
            h(
              Section,
              {
                title: `Side by side · ${differing} of ${d.rows.length} fields differ`,
                actions: h(
                  'label',
                  { class: 'check' },
                  h('input', { type: 'checkbox', checked: onlyDiff, onChange: () => setOnlyDiff(!onlyDiff) }),
                  ' only differences',
                ),
              },
              h(DataTable<ComparisonRow>, {
                caption: `Run ${a} compared with run ${b}`,
                rows: onlyDiff ? d.rows.filter((r) => r.differs) : d.rows,
                rowKey: (r) => r.field,
                rowClass: (r) => (r.differs ? 'differs' : undefined),
                columns: [
                  {
                    label: 'Field',
                    cell: (r) =>
                      h(
                        'span',
                        { class: 'mono' },
                        r.differs ? h('span', { class: 'diff-mark', 'aria-label': 'differs' }, '≠ ') : null,
                        r.field,
                      ),
                  },
                  { label: `A · ${a}`, cell: (r) => h('span', { class: 'mono wrap' }, show(r.a)) },
                  { label: `B · ${b}`, cell: (r) => h('span', { class: 'mono wrap' }, show(r.b)) },
                ],
              }),
            ),
          );
        }),
  );
}

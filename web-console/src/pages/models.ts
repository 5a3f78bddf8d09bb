// The model registry: every model with its newest version, its aliases and how its accuracy moved.
import { h } from 'preact';
import { getModel, listModels } from '../api/registry.ts';
import { useResource } from '../api/use-resource.ts';
import type { ModelVersion } from '../api/types.ts';
import { DataTable } from '../components/data-table.ts';
import { guard } from '../components/notices.ts';
import { PageHeader } from '../components/page-header.ts';
import { ago, pct } from '../format.ts';
import { href } from '../router.ts';

interface Row {
  name: string;
  latestVersion: number;
  aliases: Record<string, number>;
  versions: ModelVersion[];
}

async function load(): Promise<Row[]> {
  const models = await listModels();
  return Promise.all(
    models.map(async (m) => ({ ...m, versions: (await getModel(m.name).catch(() => ({ versions: [] as ModelVersion[] }))).versions })),
  );
}

const acc = (v: ModelVersion | undefined) => (typeof v?.metrics?.accuracy === 'number' ? (v.metrics.accuracy as number) : null);

/** A tiny inline trend of accuracy by version, oldest to newest. */
function Spark({ versions }: { versions: ModelVersion[] }) {
  const ys = [...versions]
    .reverse()
    .map(acc)
    .filter((y): y is number => y !== null);
  if (ys.length < 2) return null;
  const lo = Math.min(...ys);
  const hi = Math.max(...ys);
  const pts = ys.map((y, i) => `${(i / (ys.length - 1)) * 80},${18 - ((y - lo) / (hi - lo || 1)) * 16}`).join(' ');
  return h(
    'svg',
    { class: 'spark', width: 80, height: 20, role: 'img', 'aria-label': `accuracy by version from ${pct(ys[0])} to ${pct(ys.at(-1))}` },
    h('polyline', { points: pts }),
  );
}

export function ModelsPage() {
  const models = useResource(load, [], 15_000);
  return h(
    'div',
    { class: 'page' },
    h(PageHeader, {
      title: 'Models',
      sub: 'The registry: versions, aliases and how each model got better (or not).',
      actions: h('a', { class: 'btn btn-primary', href: href('training') }, 'Train a model'),
    }),
    guard(models, 'Models', (rows) =>
      h(
        'div',
        { class: 'card flush' },
        h(DataTable<Row>, {
          caption: 'Registered models',
          rows,
          rowKey: (r) => r.name,
          empty: 'No models yet. Train one on the Training page, or with flotilla train.',
          columns: [
            { label: 'Model', cell: (r) => h('a', { href: href(['models', r.name]) }, h('strong', null, r.name)) },
            { label: 'Versions', cell: (r) => String(r.versions.length || r.latestVersion), class: 'num' },
            { label: 'Latest', cell: (r) => `v${r.latestVersion}`, class: 'num' },
            {
              label: 'Aliases',
              cell: (r) =>
                h(
                  'span',
                  { class: 'chips' },
                  Object.entries(r.aliases).map(([a, v]) => h('span', { key: a, class: 'chip alias' }, `${a} → v${v}`)),
                ),
            },
            { label: 'Latest accuracy', cell: (r) => pct(acc(r.versions[0])), class: 'num' },
            { label: 'Trend', cell: (r) => h(Spark, { versions: r.versions }), class: 'hide-narrow' },
            { label: 'Updated', cell: (r) => ago(r.versions[0]?.createdAt), class: 'hide-narrow' },
          ],
        }),
      ),
    ),
  );
}

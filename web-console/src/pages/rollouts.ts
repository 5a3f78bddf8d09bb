// Rollouts: what is shipping where, newest first, with progress for the ones still running.
import { h } from 'preact';
import { listRollouts } from '../api/rollouts.ts';
import { useResource } from '../api/use-resource.ts';
import type { Rollout } from '../api/types.ts';
import { DataTable } from '../components/data-table.ts';
import { guard } from '../components/notices.ts';
import { PageHeader, Section } from '../components/page-header.ts';
import { StatusBadge } from '../components/status-badge.ts';
import { useCan } from '../api/session.ts';
import { ago, stamp } from '../format.ts';
import { href } from '../router.ts';
import { RolloutProgressList } from './rollout-progress-list.ts';
import { describeTarget } from './rollout-text.ts';

type Row = Omit<Rollout, 'runtime'>;
const ACTIVE = new Set(['running', 'paused', 'waiting_approval', 'draft']);

export function RolloutsPage() {
  const can = useCan('operator');
  const list = useResource(() => listRollouts({ limit: 200 }), [], 4_000);
  return h(
    'div',
    { class: 'page' },
    h(PageHeader, {
      title: 'Rollouts',
      sub: 'Staged deliveries of a bundle to a target, gated on install success and model health.',
      actions: can && !list.missing ? h('a', { class: 'btn btn-primary', href: href(['rollouts', 'new']) }, 'New rollout') : null,
    }),
    guard(list, 'Rollouts', (rows) =>
      h(
        'div',
        null,
        h(
          Section,
          { title: 'In progress' },
          h(RolloutProgressList, { rollouts: rows.filter((r) => ACTIVE.has(r.state)), empty: 'Nothing is rolling out right now.' }),
        ),
        h(
          Section,
          { title: 'All rollouts' },
          h(DataTable<Row>, {
            caption: 'Rollouts, newest first',
            rows,
            rowKey: (r) => r.id,
            empty: 'No rollouts yet.',
            columns: [
              { label: 'Rollout', cell: (r) => h('a', { class: 'mono', href: href(['rollouts', r.id]) }, r.id) },
              { label: 'Bundle', cell: (r) => h('span', { class: 'mono' }, `${r.bundle.model}@${r.bundle.version}`) },
              { label: 'State', cell: (r) => h(StatusBadge, { state: r.state }) },
              { label: 'Stage', cell: (r) => `${r.current + 1} of ${r.stages.length}`, class: 'num' },
              { label: 'Target', cell: (r) => h('span', { class: 'mono small' }, describeTarget(r.target)), class: 'hide-narrow' },
              { label: 'By', cell: (r) => r.createdBy, class: 'hide-narrow' },
              { label: 'Created', cell: (r) => h('span', { title: stamp(r.createdAt) }, ago(r.createdAt)) },
            ],
          }),
        ),
      ),
    ),
  );
}

// Rollouts as compact progress rows (used by the overview and the rollout list).
import { h } from 'preact';
import { useResource } from '../api/use-resource.ts';
import { getRollout } from '../api/rollouts.ts';
import type { Rollout } from '../api/types.ts';
import { StateBar } from '../components/charts/state-bar.ts';
import { StatusBadge } from '../components/status-badge.ts';
import { ago } from '../format.ts';
import { href } from '../router.ts';

function Row({ r }: { r: Omit<Rollout, 'runtime'> }) {
  const status = useResource(() => getRollout(r.id), [r.id, r.updatedAt], 5_000);
  const s = status.data;
  return h(
    'li',
    { class: 'rollout-row' },
    h(
      'div',
      { class: 'rollout-row-head' },
      h('a', { href: href(['rollouts', r.id]) }, h('strong', null, `${r.bundle.model}@${r.bundle.version}`)),
      h(StatusBadge, { state: r.state }),
      h(
        'span',
        { class: 'muted small' },
        s ? `stage ${s.current + 1} of ${s.stages.length} · ${s.devices} devices` : `${r.stages.length} stages`,
        ` · ${ago(r.createdAt)}`,
      ),
    ),
    s ? h(StateBar, { counts: s.counts, label: `Devices of rollout ${r.id} by state` }) : null,
  );
}

export function RolloutProgressList({ rollouts, empty }: { rollouts: Omit<Rollout, 'runtime'>[]; empty: string }) {
  if (rollouts.length === 0) return h('p', { class: 'notice muted' }, empty);
  return h(
    'ul',
    { class: 'rollout-list' },
    rollouts.map((r) => h(Row, { key: r.id, r })),
  );
}

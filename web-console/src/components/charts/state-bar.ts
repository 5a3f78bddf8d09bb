// One bar split by state (devices in a stage: updated, installing, failed...), with a legend of counts.
import { h } from 'preact';
import { num } from '../../format.ts';
import { toneOf } from '../status-badge.ts';

/** States in the order they progress, so the bar fills from the left as devices update. */
const ORDER = [
  'updated',
  'committing',
  'probing',
  'activating',
  'staging',
  'verifying',
  'downloading',
  'notified',
  'planned',
  'rollback_pending',
  'rolling_back',
  'rolled_back',
  'failed',
  'superseded',
  'excluded',
];

export function StateBar({ counts, label }: { counts: Partial<Record<string, number>>; label: string }) {
  const entries = Object.entries(counts).filter(([, n]) => (n ?? 0) > 0) as [string, number][];
  entries.sort((a, b) => (ORDER.indexOf(a[0]) + 1 || 99) - (ORDER.indexOf(b[0]) + 1 || 99));
  const total = entries.reduce((a, [, n]) => a + n, 0);
  const text = entries.map(([s, n]) => `${num(n)} ${s.replace(/_/g, ' ')}`).join(', ') || 'no devices';
  return h(
    'div',
    { class: 'state-bar' },
    h(
      'div',
      { class: 'state-track', role: 'img', 'aria-label': `${label}: ${text}` },
      entries.map(([s, n]) =>
        h('span', { key: s, class: `seg tone-${toneOf(s)} st-${s}`, style: { width: `${(n / total) * 100}%` }, title: `${s}: ${n}` }),
      ),
    ),
    h(
      'div',
      { class: 'state-legend' },
      entries.map(([s, n]) =>
        h(
          'span',
          { key: s, class: 'legend-item' },
          h('i', { class: `swatch tone-${toneOf(s)}`, 'aria-hidden': 'true' }),
          `${s.replace(/_/g, ' ')} ${num(n)}`,
        ),
      ),
    ),
  );
}

// An SVG histogram on given bin edges, optionally over a reference distribution (the training data's
// frequencies on the same bins), which is how drift looks when you see it.
import { h } from 'preact';
import { compact, linear } from './scale.ts';
import { useWidth } from './use-width.ts';

export interface HistogramProps {
  label: string;
  edges: number[];
  counts: number[];
  /** Expected shares per bin (sum 1), drawn as an outline. */
  reference?: number[];
  height?: number;
  format?: (edge: number) => string;
}

const M = { top: 8, right: 8, bottom: 22, left: 8 };

export function Histogram(p: HistogramProps) {
  const { ref, width } = useWidth<HTMLDivElement>();
  const height = p.height ?? 140;
  const total = p.counts.reduce((a, b) => a + b, 0);
  const shares = p.counts.map((c) => (total > 0 ? c / total : 0));
  const top = Math.max(0.0001, ...shares, ...(p.reference ?? []));
  const n = p.counts.length;
  const sx = linear(0, Math.max(1, n), M.left, width - M.right);
  const sy = linear(0, top, height - M.bottom, M.top);
  const fmt = p.format ?? compact;
  const every = Math.max(1, Math.ceil(n / Math.max(2, Math.floor(width / 60))));
  const summary = `${p.label}: ${total} observations in ${n} bins${p.reference ? ', outline shows the reference' : ''}`;
  return h(
    'figure',
    { class: 'chart', ref },
    h(
      'svg',
      { width, height, role: 'img', 'aria-label': summary },
      shares.map((s, i) =>
        h(
          'rect',
          {
            key: `b${i}`,
            class: 'hist-bar',
            x: sx(i) + 1,
            y: sy(s),
            width: Math.max(1, sx(i + 1) - sx(i) - 2),
            height: height - M.bottom - sy(s),
          },
          h('title', null, `${fmt(p.edges[i] ?? i)} – ${fmt(p.edges[i + 1] ?? i + 1)}: ${p.counts[i]} (${(s * 100).toFixed(1)}%)`),
        ),
      ),
      p.reference
        ? h('path', { class: 'hist-ref', d: p.reference.map((r, i) => `${i === 0 ? 'M' : 'L'}${sx(i)},${sy(r)}H${sx(i + 1)}`).join('') })
        : null,
      p.edges.map((e, i) =>
        i % every === 0 ? h('text', { key: `e${i}`, class: 'axis', x: sx(i), y: height - 6, 'text-anchor': 'middle' }, fmt(e)) : null,
      ),
    ),
    p.reference
      ? h(
          'figcaption',
          { class: 'legend' },
          h('span', { class: 'legend-item' }, h('i', { class: 'swatch hist', 'aria-hidden': 'true' }), 'observed'),
          h('span', { class: 'legend-item' }, h('i', { class: 'swatch ref', 'aria-hidden': 'true' }), 'reference'),
        )
      : null,
  );
}

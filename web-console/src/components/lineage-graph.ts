// The lineage of a model version as a left-to-right graph: dataset → run → model → quantized model →
// bundles → rollouts. Each node links to its page; missing steps say so instead of vanishing.
import { h } from 'preact';

export type LineageKind = 'dataset' | 'run' | 'model' | 'quantized' | 'bundle' | 'rollout';

export interface LineageNode {
  id: string;
  kind: LineageKind;
  label: string;
  sub?: string;
  href?: string;
  /** Not there (yet): drawn dashed, e.g. "not quantized". */
  absent?: boolean;
}

export interface LineageEdge {
  from: string;
  to: string;
}

const COLUMNS: LineageKind[] = ['dataset', 'run', 'model', 'quantized', 'bundle', 'rollout'];
const TITLES: Record<LineageKind, string> = {
  dataset: 'Dataset',
  run: 'Training run',
  model: 'Model',
  quantized: 'Quantized (int8)',
  bundle: 'Bundle',
  rollout: 'Rollout',
};
const W = 166;
const NH = 46;
const GAP_X = 34;
const GAP_Y = 12;
const TOP = 22;

export function LineageGraph({ nodes, edges, label }: { nodes: LineageNode[]; edges: LineageEdge[]; label: string }) {
  const cols = COLUMNS.filter((k) => nodes.some((n) => n.kind === k));
  const pos = new Map<string, { x: number; y: number }>();
  let rows = 1;
  cols.forEach((k, ci) => {
    const inCol = nodes.filter((n) => n.kind === k);
    rows = Math.max(rows, inCol.length);
    inCol.forEach((n, ri) => pos.set(n.id, { x: ci * (W + GAP_X), y: TOP + ri * (NH + GAP_Y) }));
  });
  const width = cols.length * (W + GAP_X) - GAP_X + 2;
  const height = TOP + rows * (NH + GAP_Y);
  const summary = `${label}: ${cols
    .map(
      (k) =>
        `${TITLES[k]} ${nodes
          .filter((n) => n.kind === k)
          .map((n) => n.label)
          .join(', ')}`,
    )
    .join('; then ')}`;
  return h(
    'div',
    { class: 'lineage' },
    h(
      'svg',
      { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': summary },
      cols.map((k, ci) => h('text', { key: k, class: 'lineage-col', x: ci * (W + GAP_X), y: 12 }, TITLES[k])),
      edges.map((e) => {
        const a = pos.get(e.from);
        const b = pos.get(e.to);
        if (!a || !b) return null;
        const x1 = a.x + W;
        const y1 = a.y + NH / 2;
        const x2 = b.x;
        const y2 = b.y + NH / 2;
        const mx = (x1 + x2) / 2;
        return h('path', {
          key: `${e.from}>${e.to}`,
          class: 'lineage-edge',
          d: `M${x1},${y1}C${mx},${y1} ${mx},${y2} ${x2 - 4},${y2}`,
          'marker-end': 'url(#arrow)',
        });
      }),
      h(
        'defs',
        null,
        h(
          'marker',
          { id: 'arrow', viewBox: '0 0 8 8', refX: 4, refY: 4, markerWidth: 6, markerHeight: 6, orient: 'auto' },
          h('path', { d: 'M0,0L8,4L0,8z', class: 'lineage-arrow' }),
        ),
      ),
      nodes.map((n) => {
        const p = pos.get(n.id);
        if (!p) return null;
        const body = h(
          'g',
          { key: n.id, class: `lineage-node k-${n.kind}${n.absent ? ' absent' : ''}`, transform: `translate(${p.x},${p.y})` },
          h('title', null, `${TITLES[n.kind]}: ${n.label}${n.sub ? ` (${n.sub})` : ''}`),
          h('rect', { width: W, height: NH, rx: 6 }),
          h('text', { class: 'lineage-label', x: 10, y: 19 }, n.label.length > 20 ? `${n.label.slice(0, 19)}…` : n.label),
          n.sub ? h('text', { class: 'lineage-sub', x: 10, y: 36 }, n.sub.length > 24 ? `${n.sub.slice(0, 23)}…` : n.sub) : null,
        );
        return n.href ? h('a', { key: n.id, href: n.href, 'aria-label': `${TITLES[n.kind]} ${n.label}` }, body) : body;
      }),
    ),
  );
}

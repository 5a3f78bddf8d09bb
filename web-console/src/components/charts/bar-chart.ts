// An SVG horizontal bar chart for counts or shares by category (versions in the field, classes, states).
import { h } from 'preact';
import { compact, linear } from './scale.ts';
import { useWidth } from './use-width.ts';

export interface Bar {
  label: string;
  value: number;
  /** Optional link for the bar (e.g. the devices running that version). */
  href?: string;
  tone?: 'ok' | 'info' | 'warn' | 'bad' | 'muted';
}

export function BarChart(p: { label: string; bars: Bar[]; format?: (v: number) => string; max?: number }) {
  const { ref, width } = useWidth<HTMLDivElement>();
  const fmt = p.format ?? compact;
  const row = 22;
  const labelW = Math.min(200, Math.max(80, Math.floor(width * 0.32)));
  const valueW = 64;
  const max = p.max ?? Math.max(0, ...p.bars.map((b) => b.value));
  const sx = linear(0, max || 1, 0, Math.max(10, width - labelW - valueW));
  const height = Math.max(row, p.bars.length * row);
  const summary = `${p.label}: ${p.bars.map((b) => `${b.label} ${fmt(b.value)}`).join(', ') || 'no data'}`;
  return h(
    'figure',
    { class: 'chart', ref },
    h(
      'svg',
      { width, height, role: 'img', 'aria-label': summary },
      p.bars.length === 0 ? h('text', { class: 'axis', x: width / 2, y: row / 2, dy: '0.32em', 'text-anchor': 'middle' }, 'No data') : null,
      p.bars.map((b, i) => {
        const y = i * row;
        const bar = h(
          'g',
          { key: b.label, class: `bar tone-${b.tone ?? 'info'}` },
          h('title', null, `${b.label}: ${fmt(b.value)}`),
          h(
            'text',
            { class: 'bar-label', x: labelW - 8, y: y + row / 2, dy: '0.32em', 'text-anchor': 'end' },
            b.label.length > 28 ? `${b.label.slice(0, 27)}…` : b.label,
          ),
          h('rect', { x: labelW, y: y + 4, width: Math.max(b.value > 0 ? 2 : 0, sx(b.value)), height: row - 8, rx: 2 }),
          h('text', { class: 'bar-value', x: labelW + sx(b.value) + 6, y: y + row / 2, dy: '0.32em' }, fmt(b.value)),
        );
        return b.href ? h('a', { key: b.label, href: b.href }, bar) : bar;
      }),
    ),
  );
}

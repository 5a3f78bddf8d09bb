// An SVG line chart: several series over time (or epochs), gaps where data is missing, optional
// threshold lines, and a hover read-out of every series at the nearest point.
import { h } from 'preact';
import { useState } from 'preact/hooks';
import { compact, linear, niceDomain, niceTicks, timeLabel, timeTicks } from './scale.ts';
import { useWidth } from './use-width.ts';

export interface LinePoint {
  x: number;
  y: number | null;
}

export interface LineSeries {
  name: string;
  points: LinePoint[];
  /** Dashed: a reference or estimate next to a measurement. */
  dashed?: boolean;
  /** Palette slot (0-7); default the series' position. Two series of one thing share a colour. */
  color?: number;
}

export interface LineChartProps {
  /** What the chart shows, for screen readers and the heading. */
  label: string;
  series: LineSeries[];
  /** 'time': x is ms since the epoch. Default 'time'. */
  x?: 'time' | 'number';
  xLabel?: (x: number) => string;
  y?: (v: number) => string;
  yMin?: number;
  yMax?: number;
  thresholds?: { y: number; label: string; tone?: 'warn' | 'bad' }[];
  height?: number;
}

const M = { top: 10, right: 14, bottom: 24, left: 46 };

export function LineChart(p: LineChartProps) {
  const { ref, width } = useWidth<HTMLDivElement>();
  const [hover, setHover] = useState<number | null>(null);
  const height = p.height ?? 180;
  const fmtY = p.y ?? compact;
  const xs = [...new Set(p.series.flatMap((s) => s.points.map((q) => q.x)))].sort((a, b) => a - b);
  const ys = p.series.flatMap((s) => s.points.map((q) => q.y)).filter((v): v is number => v !== null && Number.isFinite(v));
  const thresholdYs = (p.thresholds ?? []).map((t) => t.y);
  const hasData = ys.length > 0;
  const [y0, y1] = niceDomain(Math.min(p.yMin ?? Infinity, ...ys, ...thresholdYs), Math.max(p.yMax ?? -Infinity, ...ys, ...thresholdYs));
  const lo = p.yMin ?? y0;
  const hi = p.yMax ?? y1;
  const x0 = xs[0] ?? 0;
  const x1 = xs.at(-1) ?? 1;
  const sx = linear(x0, x1 === x0 ? x0 + 1 : x1, M.left, width - M.right);
  const sy = linear(lo, hi, height - M.bottom, M.top);
  const isTime = (p.x ?? 'time') === 'time';
  const xTicks = isTime
    ? timeTicks(x0, x1, Math.max(2, Math.floor(width / 110)))
    : niceTicks(x0, x1, Math.max(2, Math.floor(width / 80))).filter((t) => Number.isInteger(t) || x1 - x0 > 5);
  const xText = p.xLabel ?? (isTime ? (t: number) => timeLabel(t, x1 - x0) : compact);

  const path = (pts: LinePoint[]) => {
    let d = '';
    let pen = false;
    for (const q of pts) {
      if (q.y === null || !Number.isFinite(q.y)) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${sx(q.x).toFixed(1)},${sy(q.y).toFixed(1)}`;
      pen = true;
    }
    return d;
  };
  const onMove = (e: MouseEvent) => {
    if (!xs.length) return;
    const box = (e.currentTarget as SVGElement).getBoundingClientRect();
    const px = e.clientX - box.left;
    let best = 0;
    for (let i = 1; i < xs.length; i++) if (Math.abs(sx(xs[i]!) - px) < Math.abs(sx(xs[best]!) - px)) best = i;
    setHover(best);
  };
  const hx = hover === null ? null : xs[hover];
  const summary = `${p.label}: ${p.series
    .map((s) => {
      const last = [...s.points].reverse().find((q) => q.y !== null);
      return `${s.name} ${last ? fmtY(last.y!) : 'no data'}`;
    })
    .join(', ')}`;

  return h(
    'figure',
    { class: 'chart', ref },
    h(
      'svg',
      { width, height, role: 'img', 'aria-label': summary, onMouseMove: onMove, onMouseLeave: () => setHover(null) },
      niceTicks(lo, hi, 4).map((t) =>
        h(
          'g',
          { key: `y${t}`, class: 'grid' },
          h('line', { x1: M.left, x2: width - M.right, y1: sy(t), y2: sy(t) }),
          h('text', { x: M.left - 6, y: sy(t), dy: '0.32em', 'text-anchor': 'end' }, fmtY(t)),
        ),
      ),
      hasData
        ? xTicks.map((t) =>
            h(
              'text',
              {
                key: `x${t}`,
                class: 'axis',
                x: sx(t),
                y: height - 6,
                'text-anchor': sx(t) > width - M.right - 30 ? 'end' : sx(t) < M.left + 30 ? 'start' : 'middle',
              },
              xText(t),
            ),
          )
        : null,
      (p.thresholds ?? []).map((t) =>
        h(
          'g',
          { key: `t${t.label}`, class: `threshold tone-${t.tone ?? 'warn'}` },
          h('line', { x1: M.left, x2: width - M.right, y1: sy(t.y), y2: sy(t.y) }),
          h('text', { x: width - M.right - 2, y: sy(t.y) - 3, 'text-anchor': 'end' }, t.label),
        ),
      ),
      p.series.map((s, i) =>
        h('path', { key: s.name, class: `line s${(s.color ?? i) % 8}${s.dashed ? ' dashed' : ''}`, d: path(s.points) }),
      ),
      p.series.map((s, i) =>
        s.points.filter((q) => q.y !== null).length === 1
          ? s.points
              .filter((q) => q.y !== null)
              .map((q) => h('circle', { key: `${s.name}-dot`, class: `dot s${(s.color ?? i) % 8}`, cx: sx(q.x), cy: sy(q.y!), r: 3 }))
          : null,
      ),
      hx !== null && hx !== undefined ? h('line', { class: 'cursor', x1: sx(hx), x2: sx(hx), y1: M.top, y2: height - M.bottom }) : null,
      !hasData ? h('text', { class: 'axis', x: width / 2, y: height / 2, 'text-anchor': 'middle' }, 'No data in this range') : null,
    ),
    h(
      'figcaption',
      { class: 'legend' },
      p.series.map((s, i) => {
        const at = hx === null || hx === undefined ? null : s.points.find((q) => q.x === hx);
        return h(
          'span',
          { key: s.name, class: 'legend-item' },
          h('i', { class: `swatch s${(s.color ?? i) % 8}${s.dashed ? ' dashed' : ''}`, 'aria-hidden': 'true' }),
          s.name,
          at && at.y !== null ? h('b', null, ` ${fmtY(at.y)}`) : null,
        );
      }),
      hx !== null && hx !== undefined
        ? h('span', { class: 'legend-at muted' }, isTime ? new Date(hx).toLocaleString('en-GB') : `${xText(hx)}`)
        : null,
    ),
  );
}

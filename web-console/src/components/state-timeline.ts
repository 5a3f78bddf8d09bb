// A device's story over time in two lanes: presence (online/offline) and deployment state (idle,
// downloading, ... failed), built from its event log, with the log itself listed beneath.
import { h } from 'preact';
import type { DeviceEvent } from '../api/types.ts';
import { linear, timeLabel, timeTicks } from './charts/scale.ts';
import { useWidth } from './charts/use-width.ts';
import { toneOf } from './status-badge.ts';

interface Segment {
  from: number;
  to: number;
  state: string;
}

/** Turns events (any order) into lanes of segments, each ending where the next begins (or now). */
export function lanes(events: DeviceEvent[], now = Date.now()): { presence: Segment[]; deploy: Segment[] } {
  const sorted = [...events].sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || a.id - b.id);
  const presence: Segment[] = [];
  const deploy: Segment[] = [];
  const push = (lane: Segment[], t: number, state: string) => {
    const last = lane.at(-1);
    if (last && last.state === state) return;
    if (last) last.to = t;
    lane.push({ from: t, to: now, state });
  };
  for (const e of sorted) {
    const t = Date.parse(e.at);
    const d = (e.detail ?? {}) as { to?: string; state?: string };
    if (e.kind === 'online' || e.kind === 'connected') push(presence, t, 'online');
    else if (e.kind === 'offline' || e.kind === 'disconnected') push(presence, t, 'offline');
    else if (e.kind === 'status' && d.to) push(deploy, t, d.to);
    else if (e.kind === 'reported' && d.state) push(deploy, t, d.state);
  }
  return { presence, deploy };
}

export function StateTimeline({ events, label }: { events: DeviceEvent[]; label: string }) {
  const { ref, width } = useWidth<HTMLElement>();
  const now = Date.now();
  const { presence, deploy } = lanes(events, now);
  // From a little before the first event (at least a minute of history, so a new device is not a sliver).
  const first = Math.min(now, ...[...presence, ...deploy].map((s) => s.from));
  const t0 = now - Math.max(60_000, (now - first) * 1.05);
  const LW = 84;
  const sx = linear(t0, now, LW, width - 8);
  const lane = (segs: Segment[], y: number, name: string) =>
    h(
      'g',
      { key: name },
      h('text', { class: 'axis', x: 0, y: y + 9, dy: '0.32em' }, name),
      h('rect', { class: 'lane-bg', x: LW, y, width: width - 8 - LW, height: 18, rx: 3 }),
      segs.map((s, i) => {
        const w = Math.max(2, sx(s.to) - sx(s.from));
        return h(
          'g',
          { key: `${name}${i}` },
          h(
            'rect',
            { class: `seg tone-${toneOf(s.state)}`, x: sx(s.from), y, width: w, height: 18 },
            h(
              'title',
              null,
              `${s.state}: ${new Date(s.from).toLocaleString('en-GB')} → ${s.to === now ? 'now' : new Date(s.to).toLocaleString('en-GB')}`,
            ),
          ),
          w > s.state.length * 7 + 8
            ? h('text', { class: 'seg-label', x: sx(s.from) + 5, y: y + 9, dy: '0.32em' }, s.state.replace(/_/g, ' '))
            : null,
        );
      }),
    );
  const summary = `${label}: ${deploy.map((s) => s.state).join(' → ') || 'no deployment events'}; ${presence.at(-1)?.state ?? 'presence unknown'} now`;
  return h(
    'figure',
    { class: 'chart timeline', ref },
    h(
      'svg',
      { width, height: 74, role: 'img', 'aria-label': summary },
      lane(presence, 4, 'presence'),
      lane(deploy, 30, 'deployment'),
      timeTicks(t0, now, Math.max(2, Math.floor(width / 120))).map((t) =>
        h('text', { key: t, class: 'axis', x: sx(t), y: 66, 'text-anchor': 'middle' }, timeLabel(t, now - t0)),
      ),
    ),
  );
}

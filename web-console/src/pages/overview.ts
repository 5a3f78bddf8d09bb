// Overview: fleet size, online now, model versions in the field, active rollouts and open alerts,
// with the fleet's traffic over the last day. Alerts arrive live over SSE.
import { h } from 'preact';
import { getSeries, listAlerts } from '../api/monitoring.ts';
import { listRollouts } from '../api/rollouts.ts';
import { useStream } from '../api/sse.ts';
import { useResource } from '../api/use-resource.ts';
import type { Alert } from '../api/types.ts';
import { BarChart } from '../components/charts/bar-chart.ts';
import { LineChart } from '../components/charts/line-chart.ts';
import { guard } from '../components/notices.ts';
import { PageHeader, Section, Stat } from '../components/page-header.ts';
import { StatusBadge } from '../components/status-badge.ts';
import { ago, num, pct } from '../format.ts';
import { href } from '../router.ts';
import { loadFleetSummary } from './fleet-summary.ts';
import { RolloutProgressList } from './rollout-progress-list.ts';

const ACTIVE = new Set(['running', 'paused', 'waiting_approval']);
const TRAFFIC_SPAN = 6 * 3_600_000;

export function OverviewPage() {
  const fleet = useResource(loadFleetSummary, [], 10_000);
  const rollouts = useResource(() => listRollouts({ limit: 50 }), [], 5_000);
  const alerts = useResource(() => listAlerts({ state: 'open', limit: 20 }), [], 30_000);
  // By minute over the last 6 h: a rollout or an incident of the last minutes shows as a line, not one hourly dot.
  const traffic = useResource(
    () => getSeries({ scope: 'fleet', metrics: ['requests', 'errors'], from: Date.now() - TRAFFIC_SPAN, bucket: 'minute' }),
    [],
    15_000,
  );
  const live = useStream(alerts.missing ? null : '/monitoring/stream', { alert: () => alerts.reload() });

  const active = rollouts.data?.filter((r) => ACTIVE.has(r.state)) ?? [];
  const open = alerts.data ?? [];
  const f = fleet.data;
  const na = (missing: boolean, v: string) => (missing ? 'n/a' : v);
  return h(
    'div',
    { class: 'page' },
    h(PageHeader, {
      title: 'Overview',
      sub: h(
        'span',
        null,
        'The fleet and the models on it, now. ',
        alerts.missing ? null : h(StatusBadge, { state: live, label: live === 'live' ? 'live updates' : `updates ${live}` }),
      ),
    }),
    h(
      'div',
      { class: 'stats' },
      h(Stat, {
        label: 'Fleet size',
        value: na(fleet.missing, f ? num(f.total) : '…'),
        detail: 'provisioned devices',
        href: href('devices'),
      }),
      h(Stat, {
        label: 'Online now',
        value: na(fleet.missing, f ? num(f.online) : '…'),
        detail: f && f.total ? `${pct(f.online / f.total, 0)} of the fleet` : ' ',
        href: href('devices', { online: 'true' }),
        tone: 'ok',
      }),
      h(Stat, {
        label: 'Model versions in the field',
        value: na(fleet.missing, f ? num(f.versions.filter((v) => v.version !== 'none' && v.version !== 'other').length) : '…'),
        detail: common(f),
      }),
      h(Stat, {
        label: 'Active rollouts',
        value: na(rollouts.missing, rollouts.data ? num(active.length) : '…'),
        detail: active.some((r) => r.state !== 'running')
          ? `${active.filter((r) => r.state !== 'running').length} waiting on a person`
          : ' ',
        href: href('rollouts'),
        tone: active.length ? 'info' : undefined,
      }),
      h(Stat, {
        label: 'Open alerts',
        value: na(alerts.missing, alerts.data ? num(open.length) : '…'),
        detail: open.some((a) => a.severity === 'critical') ? `${open.filter((a) => a.severity === 'critical').length} critical` : ' ',
        href: href('monitoring'),
        tone: alerts.missing || !alerts.data ? undefined : open.length ? 'bad' : 'ok',
      }),
    ),
    h(
      'div',
      { class: 'grid-2' },
      h(
        Section,
        { title: 'Model versions in the field' },
        guard(fleet, 'Devices', (d) =>
          h(BarChart, {
            label: 'Devices by reported model version',
            bars: d.versions.map((v) => ({
              label: v.version,
              value: v.devices,
              href: v.version === 'other' ? undefined : href('devices', { model: v.version }),
              tone: v.version === 'none' ? ('muted' as const) : ('info' as const),
            })),
          }),
        ),
      ),
      h(
        Section,
        { title: 'Fleet traffic, last 6 h by minute' },
        guard(traffic, 'Monitoring', (d) => {
          const pts = new Map<number, { r: number; e: number }>();
          for (const s of d.series)
            for (const p of s.points) {
              const t = Date.parse(p.t);
              const cur = pts.get(t) ?? { r: 0, e: 0 };
              pts.set(t, { r: cur.r + (p.requests ?? 0), e: cur.e + (p.errors?.count ?? 0) });
            }
          const xs = [...pts.keys()].sort((a, b) => a - b);
          return h(LineChart, {
            label: 'Inference requests and errors per minute',
            series: [
              { name: 'requests', points: xs.map((x) => ({ x, y: pts.get(x)!.r })) },
              { name: 'errors', points: xs.map((x) => ({ x, y: pts.get(x)!.e })) },
            ],
          });
        }),
      ),
    ),
    h(
      'div',
      { class: 'grid-2' },
      h(
        Section,
        { title: 'Active rollouts', actions: h('a', { class: 'btn', href: href('rollouts') }, 'All rollouts') },
        guard(rollouts, 'Rollouts', () => h(RolloutProgressList, { rollouts: active, empty: 'No rollout is running.' })),
      ),
      h(
        Section,
        { title: 'Open alerts', actions: h('a', { class: 'btn', href: href('monitoring') }, 'Monitoring') },
        guard(alerts, 'Alerts', (list) => h(AlertList, { alerts: list })),
      ),
    ),
  );
}

/** The most common version devices actually report (not "none"). */
function common(f: { versions: { version: string; devices: number }[] } | undefined): string {
  const top = f?.versions.find((v) => v.version !== 'none' && v.version !== 'other');
  return top ? `most common: ${top.version}` : f ? 'no device reports a model yet' : ' ';
}

export function AlertList({ alerts }: { alerts: Alert[] }) {
  if (alerts.length === 0) return h('p', { class: 'notice muted' }, 'No open alerts. Drift and health look normal.');
  return h(
    'ul',
    { class: 'alert-list', 'aria-live': 'polite' },
    alerts.map((a) =>
      h(
        'li',
        { key: a.id, class: 'alert-item', 'data-alert': a.id },
        h(StatusBadge, { state: a.state === 'open' ? a.severity : a.state }),
        h(
          'div',
          null,
          h(
            'strong',
            null,
            `Drift in ${
              a.features
                .filter((f) => f.active)
                .map((f) => f.name)
                .join(', ') || a.features.map((f) => f.name).join(', ')
            }`,
          ),
          h(
            'div',
            { class: 'muted small' },
            `${a.model} · cohort ${a.cohort} · peak PSI ${num(Math.max(...a.features.map((f) => f.peakPsi)), 2)} · since ${ago(a.since)}${a.acknowledgedBy ? ` · acknowledged by ${a.acknowledgedBy}` : ''}`,
          ),
        ),
        h(
          'a',
          {
            class: 'btn btn-quiet',
            href: href('monitoring', {
              scope: a.cohort === '*' ? undefined : 'cohort',
              id: a.cohort === '*' ? undefined : a.cohort,
              model: a.model,
            }),
          },
          'Look',
        ),
      ),
    ),
  );
}

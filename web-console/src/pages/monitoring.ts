// Monitoring: alerts (live over SSE), drift per feature over time, latency, estimated versus field
// accuracy and traffic, for the fleet, one cohort (a tag) or one device, and the live drift state.
import { h } from 'preact';
import { acknowledgeAlert, getDrift, getSeries, listAlerts, type SeriesQuery } from '../api/monitoring.ts';
import { useCan } from '../api/session.ts';
import { useStream } from '../api/sse.ts';
import { useResource } from '../api/use-resource.ts';
import type { Alert, StreamStatus } from '../api/types.ts';
import { resolveAlert } from '../api/monitoring.ts';
import { ActionButton } from '../components/action-button.ts';
import { DataTable } from '../components/data-table.ts';
import { Field } from '../components/field.ts';
import { guard, Unavailable } from '../components/notices.ts';
import { PageHeader, Section } from '../components/page-header.ts';
import { StatusBadge } from '../components/status-badge.ts';
import { ago, num, stamp } from '../format.ts';
import { href, navigate } from '../router.ts';
import { MonitoringCharts } from './monitoring-charts.ts';

const RANGES: Record<string, number> = {
  '15m': 15 * 60_000,
  '1h': 3_600_000,
  '6h': 6 * 3_600_000,
  '24h': 86_400_000,
  '7d': 7 * 86_400_000,
  '30d': 30 * 86_400_000,
};

function Alerts({ scope, id, model }: { scope: string; id: string; model: string }) {
  const can = useCan('operator');
  const cohort = scope === 'cohort' ? id : undefined;
  const alerts = useResource(() => listAlerts({ cohort, model: model || undefined, limit: 50 }), [cohort, model], 30_000);
  const live = useStream(
    alerts.missing
      ? null
      : `/monitoring/stream?scope=${scope === 'device' ? 'fleet' : scope}${cohort ? `&id=${encodeURIComponent(cohort)}` : ''}`,
    { alert: () => alerts.reload() },
  );
  const rows = [...(alerts.data ?? [])].sort((a, b) => (a.state === b.state ? 0 : a.state === 'open' ? -1 : 1));
  return h(
    Section,
    { title: 'Alerts', id: 'alerts', actions: h(StatusBadge, { state: live, label: live === 'live' ? 'live' : `stream ${live}` }) },
    guard(alerts, 'Alerts', () =>
      h(DataTable<Alert>, {
        caption: 'Drift alerts, open first',
        rows,
        rowKey: (a) => a.id,
        empty: 'No alerts. Drift and health look normal.',
        rowClass: (a) => (a.state === 'open' ? `alert-${a.severity}` : undefined),
        columns: [
          {
            label: 'Severity',
            cell: (a) =>
              h(StatusBadge, { state: a.state === 'open' ? a.severity : 'resolved', label: a.state === 'open' ? a.severity : 'resolved' }),
          },
          {
            label: 'Features',
            cell: (a) =>
              h(
                'span',
                { class: 'chips' },
                a.features.map((f) =>
                  h(
                    'span',
                    {
                      key: f.name,
                      class: `chip ${f.active ? '' : 'muted'}`,
                      title: `PSI ${num(f.psi, 3)}, peak ${num(f.peakPsi, 3)}, p=${f.pValue.toExponential(1)}`,
                    },
                    `${f.name} ${num(f.peakPsi, 2)}`,
                  ),
                ),
              ),
          },
          { label: 'Model', cell: (a) => h('span', { class: 'mono' }, a.model) },
          {
            label: 'Cohort',
            cell: (a) => (a.cohort === '*' ? 'fleet' : h('a', { href: href('monitoring', { scope: 'cohort', id: a.cohort }) }, a.cohort)),
          },
          { label: 'Since', cell: (a) => h('span', { title: stamp(a.since) }, ago(a.since)) },
          {
            label: 'Handled',
            cell: (a) => (a.resolvedBy ? `resolved by ${a.resolvedBy}` : a.acknowledgedBy ? `ack. by ${a.acknowledgedBy}` : '–'),
            class: 'hide-narrow',
          },
          ...(!can
            ? []
            : [
                {
                  label: 'Actions',
                  cell: (a: Alert) =>
                    a.state === 'open'
                      ? h(
                          'span',
                          { class: 'row gap' },
                          !a.acknowledgedAt
                            ? h(ActionButton, { label: 'Acknowledge', run: () => acknowledgeAlert(a.id), onDone: alerts.reload })
                            : null,
                          h(ActionButton, {
                            label: 'Resolve',
                            confirm: { title: 'Resolve this alert?', body: 'Drift that persists raises a new alert.', reason: false },
                            run: () => resolveAlert(a.id),
                            onDone: alerts.reload,
                          }),
                        )
                      : null,
                },
              ]),
        ],
      }),
    ),
  );
}

function DriftState({ cohort, model }: { cohort?: string; model?: string }) {
  const d = useResource(() => getDrift({ cohort, model }), [cohort, model], 10_000);
  return h(
    Section,
    { title: 'Drift now, per stream' },
    guard(d, 'Drift', (x) =>
      h(DataTable<StreamStatus>, {
        caption: 'Live drift state per cohort, model and stream',
        rows: [...x.streams].sort((a, b) => (b.psi ?? -1) - (a.psi ?? -1)).slice(0, 100),
        rowKey: (s) => `${s.cohort}|${s.model}|${s.stream}`,
        empty: 'No streams yet: drift is tracked once devices send telemetry.',
        columns: [
          {
            label: 'Cohort',
            cell: (s) => (s.cohort === '*' ? 'fleet' : h('a', { href: href('monitoring', { scope: 'cohort', id: s.cohort }) }, s.cohort)),
          },
          { label: 'Model', cell: (s) => h('span', { class: 'mono' }, s.model) },
          { label: 'Stream', cell: (s) => h('span', { class: 'mono' }, s.stream) },
          { label: 'PSI', cell: (s) => num(s.psi, 3), class: 'num' },
          {
            label: 'Level',
            cell: (s) =>
              s.level
                ? h(StatusBadge, { state: s.alerting ? 'alert' : s.level })
                : h(StatusBadge, {
                    state: s.against === 'learning' ? 'learning' : 'pending',
                    label: s.against === 'learning' ? 'learning baseline' : 'waiting',
                  }),
          },
          { label: 'Windows', cell: (s) => num(s.windowsTested), class: 'num hide-narrow' },
          { label: 'Last window', cell: (s) => ago(s.lastWindowEnd), class: 'hide-narrow' },
        ],
      }),
    ),
  );
}

/** Minutes up to 6 h (the server keeps minute rollups 48 h), hours up to 2 days, then days. */
export const bucketFor = (span: number): 'minute' | 'hour' | 'day' =>
  span <= 6 * 3_600_000 ? 'minute' : span <= 2 * 86_400_000 ? 'hour' : 'day';

export function MonitoringPage({ query }: { query: URLSearchParams }) {
  const scope = (query.get('scope') ?? 'fleet') as NonNullable<SeriesQuery['scope']>;
  const id = query.get('id') ?? '';
  const model = query.get('model') ?? '';
  const range = RANGES[query.get('range') ?? '24h'] ? (query.get('range') ?? '24h') : '24h';
  const set = (p: Record<string, string>) => navigate(href('monitoring', { scope, id, model, range, ...p }), true);
  const ready = scope === 'fleet' || id !== '';
  const span = RANGES[range]!;
  const bucket = bucketFor(span);
  // Minute bins move every minute: refresh them often enough to see a dip and its recovery as they happen.
  const series = useResource(
    () =>
      ready
        ? getSeries({ scope, id: scope === 'fleet' ? undefined : id, model: model || undefined, from: Date.now() - span, bucket })
        : Promise.resolve(null),
    [scope, id, model, range],
    bucket === 'minute' ? 10_000 : 60_000,
  );
  const drift = useResource(() => getDrift({}), [], 30_000);
  const cohorts = [...new Set((drift.data?.streams ?? []).map((s) => s.cohort).filter((c) => c !== '*'))].sort();
  const models = [...new Set((drift.data?.streams ?? []).map((s) => s.model))].sort();
  if (series.missing && drift.missing)
    return h('div', { class: 'page' }, h(PageHeader, { title: 'Monitoring' }), h(Unavailable, { what: 'Monitoring' }));
  return h(
    'div',
    { class: 'page' },
    h(PageHeader, { title: 'Monitoring', sub: 'How the models behave on the devices: input drift, latency, accuracy, alerts.' }),
    h(
      'form',
      { class: 'filters card', 'aria-label': 'What to monitor', onSubmit: (e: Event) => e.preventDefault() },
      h(
        Field,
        { label: 'Scope', inline: true },
        h(
          'select',
          { name: 'scope', value: scope, onChange: (e: Event) => set({ scope: (e.currentTarget as HTMLSelectElement).value, id: '' }) },
          h('option', { value: 'fleet' }, 'whole fleet'),
          h('option', { value: 'cohort' }, 'cohort (tag)'),
          h('option', { value: 'device' }, 'one device'),
        ),
      ),
      scope !== 'fleet'
        ? h(
            Field,
            { label: scope === 'cohort' ? 'Cohort' : 'Device id', inline: true },
            h('input', {
              name: 'id',
              value: id,
              list: scope === 'cohort' ? 'cohorts' : undefined,
              onChange: (e: Event) => set({ id: (e.currentTarget as HTMLInputElement).value.trim() }),
            }),
            h(
              'datalist',
              { id: 'cohorts' },
              cohorts.map((c) => h('option', { key: c, value: c })),
            ),
          )
        : null,
      h(
        Field,
        { label: 'Model', inline: true },
        h(
          'select',
          { name: 'model', value: model, onChange: (e: Event) => set({ model: (e.currentTarget as HTMLSelectElement).value }) },
          h('option', { value: '' }, 'all models'),
          models.map((m) => h('option', { key: m, value: m }, m)),
        ),
      ),
      h(
        Field,
        { label: 'Range', inline: true },
        h(
          'select',
          { name: 'range', value: range, onChange: (e: Event) => set({ range: (e.currentTarget as HTMLSelectElement).value }) },
          Object.keys(RANGES).map((r) => h('option', { key: r, value: r }, `last ${r}`)),
        ),
      ),
      cohorts.length
        ? h(
            'span',
            { class: 'chips' },
            h('span', { class: 'muted small' }, 'Cohorts:'),
            cohorts
              .slice(0, 12)
              .map((c) =>
                h(
                  'a',
                  { key: c, class: `chip ${c === id ? 'on' : ''}`, href: href('monitoring', { scope: 'cohort', id: c, model, range }) },
                  c,
                ),
              ),
          )
        : null,
    ),
    h(Alerts, { scope, id, model }),
    ready
      ? guard(series, 'Monitoring series', (s) =>
          s ? h(MonitoringCharts, { series: s.series, config: drift.data?.config ?? null }) : null,
        )
      : h('p', { class: 'notice muted' }, 'Name a cohort or device.'),
    h(DriftState, { cohort: scope === 'cohort' ? id : undefined, model: model || undefined }),
  );
}

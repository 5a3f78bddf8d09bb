// One device: presence and deployment state over time, what it reports and what it was told, its
// telemetry (traffic, latency, confidence) and its last errors.
import { h } from 'preact';
import { getDevice } from '../api/fleet.ts';
import { getSeries } from '../api/monitoring.ts';
import { useResource } from '../api/use-resource.ts';
import type { DeviceEvent, DeviceView } from '../api/types.ts';
import { LineChart } from '../components/charts/line-chart.ts';
import { guard } from '../components/notices.ts';
import { PageHeader, Section } from '../components/page-header.ts';
import { StateTimeline } from '../components/state-timeline.ts';
import { Presence, StatusBadge } from '../components/status-badge.ts';
import { ago, bytes, pct, shortId, stamp } from '../format.ts';
import { href } from '../router.ts';

const TELEMETRY_SPAN = 6 * 3_600_000;

function describe(e: DeviceEvent): string {
  const d = (e.detail ?? {}) as Record<string, any>;
  switch (e.kind) {
    case 'status':
      return `${d.from} → ${d.to}${d.event ? ` (${d.event})` : ''}${d.reason ? `: ${d.reason}` : ''}`;
    case 'reported':
      return `reports ${d.state}${d.model ? `, runs ${d.model.name}@${d.model.version}` : ', no model'}${d.lastError ? `; last error: ${d.lastError}` : ''}`;
    case 'desired':
      return `told to run bundle ${d.bundle ? shortId(d.bundle) : 'none'} (rev ${d.rev}${d.actor ? `, by ${d.actor}` : ''})`;
    case 'online':
    case 'offline':
      return `${e.kind} (session ${d.session ?? '–'})`;
    case 'connected':
    case 'disconnected':
      return `${e.kind} to the broker`;
    case 'revoked':
      return `revoked by ${d.actor}: ${d.reason}`;
    case 'relabelled':
      return `labels now: tags ${(d.tags ?? []).join(', ') || 'none'}; groups ${(d.groups ?? []).join(', ') || 'none'}`;
    case 'provisioned':
      return `provisioned by ${d.actor}`;
    default:
      return e.detail === null || e.detail === undefined ? '' : JSON.stringify(e.detail);
  }
}

/** Errors worth an operator's eye: failed deployment steps and reported errors, newest first. */
function lastErrors(d: DeviceView): { at: string; text: string }[] {
  const out: { at: string; text: string }[] = [];
  for (const e of [...d.events].reverse()) {
    const x = (e.detail ?? {}) as Record<string, any>;
    if (e.kind === 'status' && (x.to === 'failed' || x.to === 'rolling_back'))
      out.push({ at: e.at, text: `${x.from} → ${x.to}: ${x.reason ?? x.event ?? ''}` });
    else if (e.kind === 'reported' && x.lastError && !out.some((o) => o.text === x.lastError))
      out.push({ at: e.at, text: String(x.lastError) });
  }
  const reported = d.reported?.lastError;
  if (typeof reported === 'string' && !out.some((o) => o.text === reported)) out.unshift({ at: d.reportedAt ?? '', text: reported });
  return out.slice(0, 5);
}

function Telemetry({ id }: { id: string }) {
  // By minute over the last 6 h (from the device's own windows): its last minutes show as lines, not one hourly dot.
  const s = useResource(
    () =>
      getSeries({
        scope: 'device',
        id,
        metrics: ['requests', 'errors', 'latency', 'confidence'],
        from: Date.now() - TELEMETRY_SPAN,
        bucket: 'minute',
      }),
    [id],
    15_000,
  );
  return guard(s, 'Telemetry', (d) => {
    const pts = d.series.flatMap((x) => x.points.map((p) => ({ ...p, model: x.model, x: Date.parse(p.t) })));
    const by = (model: string) => pts.filter((p) => p.model === model);
    // Windows sent while no model was active ('(none)') answered nothing: no line of their own.
    const models = d.series.map((x) => x.model).filter((m) => m !== '(none)' || d.series.length === 1);
    if (pts.length === 0) return h('p', { class: 'notice muted' }, 'No telemetry from this device in the last 6 hours.');
    return h(
      'div',
      { class: 'grid-3' },
      h(
        'div',
        null,
        h('h3', null, 'Requests per minute'),
        h(LineChart, {
          label: 'Requests per minute',
          height: 150,
          series: models.map((m) => ({ name: m, points: by(m).map((p) => ({ x: p.x, y: p.requests ?? null })) })),
        }),
      ),
      h(
        'div',
        null,
        h('h3', null, 'Latency (ms)'),
        h(LineChart, {
          label: 'Latency',
          height: 150,
          series: models.flatMap((m) => [
            { name: `p50 ${m}`, points: by(m).map((p) => ({ x: p.x, y: p.latency?.p50 ?? null })) },
            { name: `p95 ${m}`, points: by(m).map((p) => ({ x: p.x, y: p.latency?.p95 ?? null })), dashed: true },
          ]),
        }),
      ),
      h(
        'div',
        null,
        h('h3', null, 'Mean confidence'),
        h(LineChart, {
          label: 'Mean top-1 confidence',
          height: 150,
          y: (v) => pct(v, 0),
          series: models.map((m) => ({ name: m, points: by(m).map((p) => ({ x: p.x, y: p.confidence?.mean ?? null })) })),
        }),
      ),
    );
  });
}

export function DevicePage({ id }: { id: string }) {
  const dev = useResource(() => getDevice(id, 200), [id], 5_000);
  return h(
    'div',
    { class: 'page' },
    guard(dev, 'Device', (d) => {
      const rep = (d.reported ?? {}) as Record<string, any>;
      const errors = lastErrors(d);
      return h(
        'div',
        null,
        h(PageHeader, {
          crumbs: [{ label: 'Devices', href: href('devices') }],
          title: h('span', { class: 'mono' }, d.id),
          sub: h(
            'span',
            { class: 'row gap' },
            h(Presence, { online: d.online }),
            d.deployState ? h(StatusBadge, { state: d.deployState }) : null,
            d.revokedAt ? h(StatusBadge, { state: 'revoked' }) : null,
            d.name ? h('span', null, d.name) : null,
            h('span', { class: 'muted' }, `last seen ${ago(d.lastSeenAt)}`),
          ),
        }),
        h(
          'div',
          { class: 'grid-3' },
          h(
            Section,
            { title: 'Reported' },
            h(
              'dl',
              { class: 'kv' },
              h('dt', null, 'Model'),
              h('dd', { class: 'mono' }, d.modelVersion ?? 'none'),
              h('dt', null, 'Bundle'),
              h('dd', { class: 'mono', title: rep.bundleId ?? '' }, shortId(rep.bundleId)),
              h('dt', null, 'State'),
              h('dd', null, d.deployState ? h(StatusBadge, { state: d.deployState }) : '–'),
              h('dt', null, 'Agent'),
              h('dd', null, rep.agentVersion ? `${rep.agentVersion} · ${rep.runtime ?? ''}` : '–'),
              h('dt', null, 'Serving on'),
              h('dd', null, rep.executionProvider ?? (rep.agentVersion ? 'cpu' : '–')),
              h('dt', null, 'Free storage'),
              h('dd', null, bytes(rep.freeStorageBytes)),
              h('dt', null, 'Reported'),
              h('dd', { title: stamp(d.reportedAt) }, ago(d.reportedAt)),
            ),
          ),
          h(
            Section,
            { title: 'Desired' },
            h(
              'dl',
              { class: 'kv' },
              h('dt', null, 'Bundle'),
              h('dd', { class: 'mono' }, d.desiredBundleId ? shortId(d.desiredBundleId) : 'none'),
              h('dt', null, 'Model'),
              h(
                'dd',
                { class: 'mono' },
                (d.desired as any)?.bundle ? `${(d.desired as any).bundle.model}@${(d.desired as any).bundle.version}` : '–',
              ),
              h('dt', null, 'Revision'),
              h('dd', null, String(d.desiredRev)),
              h('dt', null, 'In sync'),
              h(
                'dd',
                null,
                d.desiredBundleId
                  ? d.desiredBundleId === rep.bundleId
                    ? h(StatusBadge, { state: 'ok', label: 'yes' })
                    : h(StatusBadge, { state: 'warn', label: 'not yet' })
                  : '–',
              ),
            ),
          ),
          h(
            Section,
            { title: 'Labels' },
            h(
              'dl',
              { class: 'kv' },
              h('dt', null, 'Tags'),
              h(
                'dd',
                { class: 'chips' },
                d.tags.length ? d.tags.map((t) => h('a', { key: t, class: 'chip', href: href('devices', { tag: t }) }, t)) : '–',
              ),
              h('dt', null, 'Groups'),
              h(
                'dd',
                { class: 'chips' },
                d.groups.length ? d.groups.map((g) => h('a', { key: g, class: 'chip', href: href('devices', { group: g }) }, g)) : '–',
              ),
              ...Object.entries(d.attributes).flatMap(([k, v]) => [h('dt', { key: `k${k}` }, k), h('dd', { key: `v${k}` }, v)]),
              h('dt', null, 'Provisioned'),
              h('dd', null, stamp(d.createdAt)),
            ),
          ),
        ),
        h(Section, { title: 'State timeline' }, h(StateTimeline, { events: d.events, label: `Timeline of ${d.id}` })),
        h(Section, { title: 'Telemetry, last 6 h by minute' }, h(Telemetry, { id: d.id })),
        h(
          'div',
          { class: 'grid-2' },
          h(
            Section,
            { title: 'Last errors' },
            errors.length
              ? h(
                  'ul',
                  { class: 'error-list' },
                  errors.map((e, i) =>
                    h('li', { key: i }, h('span', { class: 'muted small' }, stamp(e.at)), h('div', { class: 'mono small' }, e.text)),
                  ),
                )
              : h('p', { class: 'notice muted' }, 'No errors reported.'),
          ),
          h(
            Section,
            { title: 'Events' },
            h(
              'ol',
              { class: 'event-log', reversed: true },
              [...d.events]
                .reverse()
                .slice(0, 60)
                .map((e) =>
                  h(
                    'li',
                    { key: e.id },
                    h('span', { class: 'muted small', title: stamp(e.at) }, ago(e.at)),
                    ' ',
                    h(StatusBadge, {
                      state:
                        e.kind === 'status'
                          ? String((e.detail as any)?.to ?? 'info')
                          : e.kind === 'connected'
                            ? 'online'
                            : e.kind === 'disconnected'
                              ? 'offline'
                              : e.kind,
                      label: e.kind,
                    }),
                    ' ',
                    h('span', { class: 'small' }, describe(e)),
                  ),
                ),
            ),
          ),
        ),
      );
    }),
  );
}

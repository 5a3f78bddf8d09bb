// One rollout, live: its state and the operator actions it allows now, each stage's devices by state,
// bake countdown and gate verdict, the devices themselves, and the audit trail of who did what and why.
import { h } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import {
  actOnRollout,
  getRollout,
  retryRolloutStage,
  rolloutDevice,
  rolloutDevices,
  rolloutEvents,
  type RolloutAction,
} from '../api/rollouts.ts';
import { useResource } from '../api/use-resource.ts';
import type { RolloutDevice, RolloutEventRecord, RolloutStatus, StageStatus } from '../api/types.ts';
import { ActionButton } from '../components/action-button.ts';
import { StateBar } from '../components/charts/state-bar.ts';
import { DataTable } from '../components/data-table.ts';
import { Field } from '../components/field.ts';
import { guard } from '../components/notices.ts';
import { PageHeader, Section } from '../components/page-header.ts';
import { StatusBadge } from '../components/status-badge.ts';
import { ago, duration, num, pct, shortId, stamp } from '../format.ts';
import { href, navigate } from '../router.ts';
import { ACTIONS, GATES, describeTarget } from './rollout-text.ts';

const LIVE = new Set(['running', 'paused', 'waiting_approval', 'draft']);

function useNow(ms = 1000) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

function Gates({ s }: { s: StageStatus & { gates: Record<string, number | null | undefined> } }) {
  const v = s.verdict;
  const stats = (v?.stats ?? {}) as unknown as Record<string, number | null>;
  const measured: Record<string, number | null> = {
    minReporting: stats.devices ? (stats.reporting ?? 0) / stats.devices : null,
    maxFailureRate: stats.devices ? (stats.failed ?? 0) / stats.devices : null,
    maxErrorRate: stats.errorRate ?? null,
    maxP95LatencyMs: stats.p95LatencyMs ?? null,
    maxConfidenceDrop: stats.confidenceDrop ?? null,
    maxDriftScore: stats.driftScore ?? null,
    maxDisagreement: stats.disagreement ?? null,
  };
  const failed = new Set(v?.failures.map((f) => f.gate) ?? []);
  const fmt = (name: string, x: number | null | undefined) =>
    x === null || x === undefined ? '–' : name === 'maxP95LatencyMs' ? `${num(x, 1)} ms` : name === 'maxDriftScore' ? num(x, 3) : pct(x);
  return h(
    'table',
    { class: 'table compact gates-table' },
    h('caption', { class: 'sr-only' }, `Gates of stage ${s.index + 1}`),
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        h('th', { scope: 'col' }, 'Gate'),
        h('th', { scope: 'col', class: 'num' }, 'Limit'),
        h('th', { scope: 'col', class: 'num' }, 'Measured'),
        h('th', { scope: 'col' }, ''),
      ),
    ),
    h(
      'tbody',
      null,
      GATES.filter((g) => s.gates[g.name] !== null && s.gates[g.name] !== undefined && (g.name !== 'maxDisagreement' || s.shadow)).map(
        (g) =>
          h(
            'tr',
            { key: g.name },
            h('th', { scope: 'row', title: g.help }, g.label),
            h('td', { class: 'num' }, fmt(g.name, s.gates[g.name])),
            h('td', { class: 'num' }, v ? fmt(g.name, measured[g.name]) : '–'),
            h(
              'td',
              null,
              !v
                ? ''
                : failed.has(g.name as never)
                  ? h(StatusBadge, { state: 'failed', label: 'fails' })
                  : v.missing?.includes(g.name as never)
                    ? h(StatusBadge, { state: 'pending', label: 'waiting' })
                    : h(StatusBadge, { state: 'ok', label: 'holds' }),
            ),
          ),
      ),
    ),
  );
}

const WAIT_LABELS = {
  window: 'a maintenance window',
  lock: "an app's update lock",
  condition: 'a device condition',
  network: 'a retry (network or storage)',
} as const;

/** Devices of a stage that wait, by what on (update control); nothing when none waits. */
function Waiting({ s }: { s: RolloutStatus['stages'][number] }) {
  const parts = (Object.keys(WAIT_LABELS) as (keyof typeof WAIT_LABELS)[]).filter((k) => (s.waiting?.[k] ?? 0) > 0);
  if (!parts.length) return null;
  return h(
    'p',
    { class: 'small', 'data-waiting': parts.map((k) => `${k}=${s.waiting[k]}`).join(' ') },
    'Waiting: ',
    parts.map((k, i) => h('span', { key: k }, i ? ', ' : '', h('strong', null, num(s.waiting[k])), ` on ${WAIT_LABELS[k]}`)),
  );
}

const failureText = (v: NonNullable<StageStatus['verdict']>) =>
  v.failures.map((f) => `${f.gate} ${num(f.value, 3)} > ${num(f.limit, 3)}`).join('; ');
const waitingText = (v: NonNullable<StageStatus['verdict']>) =>
  v.waiting?.length
    ? v.waiting.map((w) => `${w.gate}: ${num(w.have)} of ${num(w.need)} ${w.unit}`).join('; ')
    : `${num(v.stats.reporting)} of ${num(v.stats.devices)} devices reporting`;

/**
 * One line for the stage's verdict, consistent with its state: a stage that ended says how it ended
 * (its last verdict only explains an operator's advance over it); a live stage says fail, waiting
 * (with what evidence it still needs) or holding, never two of them at once.
 */
function StageVerdict({ s, live }: { s: StageStatus; live: boolean }) {
  const v = s.verdict;
  if (!v) return null;
  const client = v.stats.clientErrors ? ` ${num(v.stats.clientErrors)} bad-input request(s) were not counted as errors.` : '';
  if (s.state === 'passed') {
    return v.pass
      ? null
      : h(
          'p',
          { class: 'small muted', 'data-verdict': 'advanced' },
          `Passed on an operator's advance; the gates had said: ${v.failures.length ? failureText(v) : `waiting for ${waitingText(v)}`}.`,
        );
  }
  if (s.state !== 'active')
    return v.failures.length
      ? h('p', { class: 'small notice error', 'data-verdict': 'fail' }, `Stage ${s.state.replace('_', ' ')}: ${failureText(v)}`)
      : null;
  if (v.failures.length) return h('p', { class: 'small notice error', 'data-verdict': 'fail' }, `Gate failed: ${failureText(v)}.${client}`);
  if (v.insufficient || v.state === 'waiting') {
    return h(
      'p',
      { class: 'small muted', 'data-verdict': 'waiting' },
      `${live ? 'Waiting for evidence' : 'Paused for lack of evidence'}: ${waitingText(v)}.${client}`,
    );
  }
  return h('p', { class: 'small muted', 'data-verdict': 'pass' }, `Gates hold.${client}`);
}

function StageCard({
  s,
  rollout,
  now,
  reload,
}: {
  s: RolloutStatus['stages'][number];
  rollout: RolloutStatus;
  now: number;
  reload: () => void;
}) {
  const failed = s.counts.failed ?? 0;
  const current = s.index === rollout.current && LIVE.has(rollout.state);
  const bakeLeft = s.bakeEndsAt ? Date.parse(s.bakeEndsAt) - now : null;
  const size = s.percent !== null ? `${s.percent}%` : `${s.count} devices`;
  return h(
    'li',
    { class: `card inset stage ${current ? 'current' : ''}`, 'data-stage': s.index, 'data-stage-state': s.state },
    h(
      'div',
      { class: 'row gap wrap' },
      h('strong', null, `Stage ${s.index + 1}`),
      h('span', { class: 'chip' }, s.shadow ? `shadow ${size}` : size),
      h(StatusBadge, { state: s.state }),
      h('span', { class: 'muted small' }, `${num(s.devices)} device${s.devices === 1 ? '' : 's'}`),
      s.activatedAt ? h('span', { class: 'muted small', title: stamp(s.activatedAt) }, `began ${ago(s.activatedAt)}`) : null,
      bakeLeft !== null && s.state === 'active'
        ? h('span', { class: 'small' }, bakeLeft > 0 ? `bake ends in ${duration(bakeLeft)}` : 'bake done, judging gates')
        : s.state === 'active' && !s.bakeStartedAt
          ? h('span', { class: 'muted small' }, `notifying devices; bake ${duration(s.bakeSec * 1000)} after the last`)
          : null,
    ),
    h(StateBar, { counts: s.counts, label: `Devices of stage ${s.index + 1} by state` }),
    h(Waiting, { s }),
    failed > 0 && ['running', 'paused', 'waiting_approval'].includes(rollout.state)
      ? h(ActionButton, {
          label: `Retry ${num(failed)} failed`,
          confirm: {
            title: `Retry the failed devices of stage ${s.index + 1}?`,
            body: 'Their desired state goes out again with a new retry nonce, so their agents try the bundle once more.',
          },
          run: (reason) => retryRolloutStage(rollout.id, s.index, reason),
          onDone: reload,
        })
      : null,
    h(StageVerdict, { s, live: rollout.state !== 'paused' }),
    h('details', { class: 'gates', open: current }, h('summary', null, 'Gates'), h(Gates, { s: s as never })),
  );
}

function Devices({ id, device, stages }: { id: string; device: string | null; stages: number }) {
  const [stage, setStage] = useState<string>('');
  const [all, setAll] = useState(false);
  const list = useResource(() => rolloutDevices(id, stage === '' ? {} : { stage: Number(stage) }), [id, stage], 5_000);
  const one = useResource(() => (device ? rolloutDevice(id, device) : Promise.resolve(null)), [id, device], device ? 5_000 : undefined);
  return h(
    Section,
    {
      title: 'Devices',
      id: 'rollout-devices',
      actions: h(
        Field,
        { label: 'Stage', inline: true },
        h(
          'select',
          { value: stage, onChange: (e: Event) => setStage((e.currentTarget as HTMLSelectElement).value) },
          h('option', { value: '' }, 'all'),
          Array.from({ length: stages }, (_, i) => i).map((i) => h('option', { key: i, value: String(i) }, `stage ${i + 1}`)),
        ),
      ),
    },
    device
      ? guard(
          one,
          'Device timeline',
          (d) =>
            d &&
            h(
              'div',
              { class: 'card inset' },
              h(
                'div',
                { class: 'row gap' },
                h('strong', { class: 'mono' }, d.deviceId),
                h(StatusBadge, { state: d.state }),
                h('a', { href: href(['devices', d.deviceId]) }, 'Device page'),
                h('button', { type: 'button', class: 'btn btn-quiet', onClick: () => navigate(href(['rollouts', id]), true) }, 'Close'),
              ),
              h(
                'ol',
                { class: 'event-log' },
                d.timeline.map((t, i) =>
                  h(
                    'li',
                    { key: i },
                    h('span', { class: 'muted small' }, stamp(t.at)),
                    ' ',
                    h(StatusBadge, { state: t.state }),
                    ` ${t.kind}`,
                    t.detail
                      ? h('span', { class: 'small muted' }, ` ${typeof t.detail === 'string' ? t.detail : JSON.stringify(t.detail)}`)
                      : null,
                  ),
                ),
              ),
            ),
        )
      : null,
    guard(list, 'Devices', (rows) =>
      h(DataTable<RolloutDevice>, {
        caption: 'Devices in this rollout, in notification order',
        rows: all ? rows : rows.slice(0, 50),
        rowKey: (r) => r.deviceId,
        empty: 'No devices assigned yet.',
        columns: [
          { label: 'Device', cell: (r) => h('a', { class: 'mono', href: href(['rollouts', id, r.deviceId]) }, r.deviceId) },
          { label: 'Stage', cell: (r) => (r.stage === null ? 'excluded' : String(r.stage + 1)), class: 'num' },
          { label: 'State', cell: (r) => h(StatusBadge, { state: r.state }) },
          { label: 'Notified', cell: (r) => ago(r.notifiedAt) },
          { label: 'Previous bundle', cell: (r) => h('span', { class: 'mono' }, shortId(r.previousBundleId, 10)), class: 'hide-narrow' },
        ],
      }),
    ),
    list.data && list.data.length > 50 && !all
      ? h(
          'p',
          { class: 'muted small' },
          `The first 50 of ${num(list.data.length)}. `,
          h('button', { type: 'button', class: 'btn btn-quiet', onClick: () => setAll(true) }, `Show all ${num(list.data.length)}`),
        )
      : null,
  );
}

function Events({ id, version }: { id: string; version: string }) {
  const ev = useResource(() => rolloutEvents(id), [id, version]);
  return h(
    Section,
    { title: 'History' },
    guard(ev, 'History', (list) =>
      h(DataTable<RolloutEventRecord>, {
        caption: 'What happened, newest first',
        rows: [...list].reverse(),
        rowKey: (e) => String(e.id),
        columns: [
          { label: 'When', cell: (e) => h('span', { title: stamp(e.at) }, ago(e.at)) },
          { label: 'What', cell: (e) => h('span', null, e.kind.replace(/_/g, ' '), e.stage !== null ? ` (stage ${e.stage + 1})` : '') },
          {
            label: 'State',
            cell: (e) => (e.to ? h('span', null, e.from ? `${e.from.replace(/_/g, ' ')} → ` : '', h(StatusBadge, { state: e.to })) : '–'),
          },
          { label: 'Who', cell: (e) => e.actor },
          { label: 'Why', cell: (e) => e.reason || h('span', { class: 'muted' }, '–') },
        ],
      }),
    ),
  );
}

export function RolloutViewPage({ id, device }: { id: string; device: string | null }) {
  const now = useNow();
  const status = useResource(() => getRollout(id), [id], 2_000);
  return h(
    'div',
    { class: 'page' },
    guard(status, 'Rollout', (r) =>
      h(
        'div',
        null,
        h(PageHeader, {
          crumbs: [{ label: 'Rollouts', href: href('rollouts') }],
          title: h(
            'span',
            null,
            h('span', { class: 'mono' }, `${r.bundle.model}@${r.bundle.version}`),
            ' ',
            h(StatusBadge, { state: r.state }),
          ),
          sub: h(
            'span',
            null,
            h('span', { class: 'mono' }, r.id),
            ` · to `,
            h('code', null, describeTarget(r.target)),
            ` · by ${r.createdBy} ${ago(r.createdAt)}`,
            r.reason ? ` · “${r.reason}”` : '',
          ),
          actions: (Object.keys(ACTIONS) as RolloutAction[])
            .filter((a) => r.actions.includes(a))
            .map((a) =>
              h(ActionButton, {
                key: a,
                label: ACTIONS[a].label,
                danger: ACTIONS[a].danger,
                primary: a === 'advance' || a === 'resume' || a === 'start',
                confirm: { title: `${ACTIONS[a].label} rollout ${r.id}?`, body: ACTIONS[a].help, danger: ACTIONS[a].danger },
                run: (reason) => actOnRollout(r.id, a, reason),
                onDone: status.reload,
              }),
            ),
        }),
        h(
          Section,
          { title: `${num(r.devices)} devices in ${r.stages.length} stage${r.stages.length === 1 ? '' : 's'}` },
          h(StateBar, { counts: r.counts, label: 'All devices of the rollout by state' }),
          h(
            'ol',
            { class: 'stages' },
            r.stages.map((s) => h(StageCard, { key: s.index, s, rollout: r, now, reload: status.reload })),
          ),
        ),
        h(Devices, { id: r.id, device, stages: r.stages.length }),
        h(Events, { id: r.id, version: `${r.state}:${r.current}:${r.updatedAt}` }),
      ),
    ),
  );
}

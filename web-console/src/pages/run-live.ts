// One run, live: epochs arrive over SSE and redraw the learning curves; batches move a progress bar;
// at the end the new version can be promoted (an alias move, confirmed with a reason).
import { h } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { cancelRun, getRun, moveAlias } from '../api/registry.ts';
import { useStream } from '../api/sse.ts';
import { useResource } from '../api/use-resource.ts';
import type { EpochRecord } from '../api/types.ts';
import { ActionButton } from '../components/action-button.ts';
import { LineChart } from '../components/charts/line-chart.ts';
import { guard } from '../components/notices.ts';
import { Section } from '../components/page-header.ts';
import { StatusBadge } from '../components/status-badge.ts';
import { duration, num, pct } from '../format.ts';
import { href } from '../router.ts';

const DONE = ['succeeded', 'failed', 'cancelled'];

/** One metric by epoch: the training split's line, and the validation split's dashed in the same colour. */
function EpochChart(p: {
  metric: 'Accuracy' | 'Loss';
  train: 'accuracy' | 'loss';
  val: 'valAccuracy' | 'valLoss';
  history: EpochRecord[];
  y?: (v: number) => string;
}) {
  const line = (key: 'accuracy' | 'loss' | 'valAccuracy' | 'valLoss') => p.history.map((e) => ({ x: e.epoch, y: e[key] }));
  const word = p.metric.toLowerCase();
  return h(
    'div',
    null,
    h('h3', null, p.metric),
    h(LineChart, {
      label: `${p.metric} by epoch`,
      x: 'number',
      xLabel: (x) => `epoch ${x}`,
      y: p.y,
      height: 160,
      series: [
        { name: `train ${word}`, points: line(p.train) },
        { name: `val ${word}`, points: line(p.val), color: 0, dashed: true },
      ],
    }),
  );
}

export function RunLive({ id }: { id: string }) {
  const run = useResource(() => getRun(id), [id]);
  const [history, setHistory] = useState<EpochRecord[]>([]);
  const [status, setStatus] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [batch, setBatch] = useState<{ epoch: number; batch: number; batches: number; loss: number } | null>(null);
  useEffect(() => {
    setHistory([]);
    setStatus(null);
    setBatch(null);
  }, [id]);
  const finished = status !== null && DONE.includes(status);
  const stream = useStream(finished ? null : `/runs/${encodeURIComponent(id)}/events`, {
    epoch: (e: { record: EpochRecord }) => setHistory((h0) => (h0.some((x) => x.epoch === e.record.epoch) ? h0 : [...h0, e.record])),
    batch: (e: { epoch: number; batch: number; batches: number; loss: number }) => setBatch(e),
    status: (e: { status: string; error?: { message: string } | null }) => {
      setStatus(e.status);
      setError(e.error?.message ?? null);
      if (DONE.includes(e.status)) {
        run.reload();
        return true;
      }
    },
  });
  const r = run.data;
  const epochs = Number((r?.hyper as { epochs?: number } | undefined)?.epochs ?? 0);
  const now = status ?? r?.status ?? 'queued';
  const done = history.length;
  const progress = epochs
    ? Math.min(1, (done + (batch && batch.epoch >= done ? batch.batch / Math.max(1, batch.batches) : 0)) / epochs)
    : 0;
  const last = history.at(-1);
  return h(
    Section,
    {
      title: h('span', null, 'Run ', h('span', { class: 'mono' }, id)),
      id: 'run-live',
      actions: [
        h(StatusBadge, { state: now, key: 's' }),
        !finished && r && !DONE.includes(r.status)
          ? h('span', { class: 'muted small', key: 'l' }, stream === 'live' ? 'live' : stream)
          : null,
        !DONE.includes(now)
          ? h(ActionButton, {
              key: 'c',
              label: 'Cancel run',
              danger: true,
              confirm: {
                title: `Cancel run ${id}?`,
                body: 'Training stops after the current batch. Nothing is registered.',
                reason: false,
              },
              run: () => cancelRun(id),
            })
          : null,
      ],
    },
    guard(run, 'Run', (rd) =>
      h(
        'div',
        null,
        h(
          'div',
          {
            class: 'progress',
            role: 'progressbar',
            'aria-label': 'Training progress',
            'aria-valuemin': 0,
            'aria-valuemax': 100,
            'aria-valuenow': Math.round(progress * 100),
          },
          h('span', { style: { width: `${(now === 'succeeded' ? 1 : progress) * 100}%` } }),
        ),
        h(
          'p',
          { class: 'small', 'aria-live': 'polite', 'data-run-progress': `${done}/${epochs}` },
          `${rd.model} on ${rd.datasetName} · epoch ${done} of ${epochs || '?'}`,
          last ? ` · val accuracy ${pct(last.valAccuracy)} · loss ${num(last.loss, 4)} · ${num(last.samplesPerSec)} samples/s` : '',
          batch && !DONE.includes(now) ? ` · batch ${batch.batch}/${batch.batches}` : '',
          rd.startedAt && rd.endedAt ? ` · took ${duration(Date.parse(rd.endedAt) - Date.parse(rd.startedAt))}` : '',
        ),
        error || rd.error ? h('p', { class: 'notice error', role: 'alert' }, error ?? rd.error?.message) : null,
        h(
          'div',
          { class: 'grid-2' },
          h(EpochChart, { metric: 'Accuracy', train: 'accuracy', val: 'valAccuracy', history, y: (v) => pct(v, 0) }),
          h(EpochChart, { metric: 'Loss', train: 'loss', val: 'valLoss', history }),
        ),
        rd.status === 'succeeded' && rd.modelVersion !== null
          ? h(
              'div',
              { class: 'row gap wrap result' },
              h(
                'span',
                null,
                'Registered as ',
                h('a', { href: href(['models', rd.model], { v: rd.modelVersion }) }, h('strong', null, `${rd.model} v${rd.modelVersion}`)),
                ` · test accuracy ${pct(rd.metrics?.accuracy as number | undefined)}`,
              ),
              h(ActionButton, {
                label: `Promote v${rd.modelVersion} to champion`,
                primary: true,
                confirm: {
                  title: `Promote ${rd.model} v${rd.modelVersion}?`,
                  body: 'The “champion” alias will point at this version. Rollouts by alias pick it up from here on.',
                  confirmLabel: 'Promote',
                },
                run: (reason) => moveAlias(rd.model, 'champion', rd.modelVersion!, reason),
                onDone: run.reload,
              }),
            )
          : null,
      ),
    ),
  );
}

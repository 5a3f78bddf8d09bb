// Webhooks (admin): each hook's URL, filters, whether it is enabled (or why it was disabled) and its last
// deliveries, with a button to enable a disabled one again. Configured from the CLI (docs/events.md).
import { h } from 'preact';
import { useCan } from '../api/session.ts';
import { useResource } from '../api/use-resource.ts';
import type { WebhookAnswer, WebhookDelivery } from '../api/types.ts';
import { enableWebhook, listWebhooks } from '../api/webhooks.ts';
import { ActionButton } from '../components/action-button.ts';
import { DataTable } from '../components/data-table.ts';
import { Empty, guard } from '../components/notices.ts';
import { PageHeader } from '../components/page-header.ts';
import { StatusBadge } from '../components/status-badge.ts';
import { ago, stamp } from '../format.ts';

function Deliveries({ rows }: { rows: WebhookDelivery[] }) {
  if (rows.length === 0) return h('span', { class: 'muted' }, 'none yet');
  return h(
    'ul',
    { class: 'deliveries' },
    rows.map((d) =>
      h(
        'li',
        { key: d.id, title: stamp(d.at) },
        h(StatusBadge, { state: d.ok ? 'ok' : 'failed', label: d.ok ? `${d.status}` : d.status ? `${d.status}` : 'no answer' }),
        ' ',
        `#${d.sequence} ${d.type.replace(/^flotilla\./, '')}`,
        d.attempt > 1 ? ` (try ${d.attempt})` : '',
        ' · ',
        ago(d.at),
        d.error && !d.ok ? h('span', { class: 'muted' }, ` · ${d.error}`) : null,
      ),
    ),
  );
}

function State({ hook, reload }: { hook: WebhookAnswer; reload(): void }) {
  if (hook.enabled)
    return h(
      'div',
      null,
      h(StatusBadge, { state: 'active', label: 'enabled' }),
      hook.failures > 0 ? h('div', { class: 'muted' }, `${hook.failures} failed tries, retrying`) : null,
    );
  return h(
    'div',
    { class: 'hook-disabled' },
    h(StatusBadge, { state: 'failed', label: 'disabled' }),
    h('p', { class: 'reason' }, hook.disabledReason ?? ''),
    h(ActionButton, { label: 'Enable', role: 'admin', run: () => enableWebhook(hook.id), onDone: reload }),
  );
}

export function WebhooksPage() {
  const admin = useCan('admin');
  const hooks = useResource(() => (admin ? listWebhooks() : Promise.resolve([])), [admin], 10_000);
  const header = h(PageHeader, {
    title: 'Webhooks',
    sub: 'Signed POSTs of registry, rollout, alert, retraining and bundle events, in order. Add them with flotilla webhooks add.',
  });
  if (!admin) return h('div', { class: 'page' }, header, h(Empty, null, 'Webhooks are managed by admins.'));
  return h(
    'div',
    { class: 'page' },
    header,
    guard(hooks, 'Webhooks', (rows) =>
      h(
        'div',
        { class: 'card flush' },
        h(DataTable<WebhookAnswer>, {
          caption: 'Webhooks',
          rows,
          rowKey: (r) => r.id,
          empty: "No webhooks. Add one with: flotilla webhooks add URL --events 'rollout.*'",
          columns: [
            {
              label: 'URL',
              cell: (r) =>
                h(
                  'div',
                  null,
                  h('strong', { class: 'hook-url' }, r.url),
                  h('div', { class: 'muted' }, r.id, r.description ? ` · ${r.description}` : ''),
                ),
            },
            {
              label: 'Events',
              cell: (r) =>
                h(
                  'span',
                  { class: 'chips' },
                  r.events.map((e) => h('span', { key: e, class: 'chip' }, e)),
                ),
            },
            { label: 'State', cell: (r) => h(State, { hook: r, reload: hooks.reload }) },
            { label: 'Last deliveries', cell: (r) => h(Deliveries, { rows: r.lastDeliveries }) },
          ],
        }),
      ),
    ),
  );
}

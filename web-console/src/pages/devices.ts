// Devices: the fleet as a table paged by the server, filtered by tag, group, state, model version and
// presence. Filters live in the URL, so a filtered view is a link you can send.
import { h } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { listBundles, listDevices, listSigningKeys, type DeviceQuery } from '../api/fleet.ts';
import { useResource } from '../api/use-resource.ts';
import type { Device } from '../api/types.ts';
import { DataTable, Pager, useCursorPages, type Column } from '../components/data-table.ts';
import { Field } from '../components/field.ts';
import { guard } from '../components/notices.ts';
import { PageHeader } from '../components/page-header.ts';
import { Presence, StatusBadge } from '../components/status-badge.ts';
import { ago } from '../format.ts';
import { href, navigate } from '../router.ts';

const PAGE = 50;
const STATES = ['idle', 'downloading', 'verifying', 'staging', 'activating', 'probing', 'committing', 'rolling_back', 'failed'];
const FILTERS = ['tag', 'group', 'state', 'model', 'online'] as const;

const columns: Column<Device>[] = [
  { label: 'Device', cell: (d) => h('a', { href: href(['devices', d.id]), class: 'mono' }, d.id) },
  { label: 'Name', cell: (d) => d.name || h('span', { class: 'muted' }, '–'), class: 'hide-narrow' },
  {
    label: 'Tags',
    cell: (d) =>
      h(
        'span',
        { class: 'chips' },
        d.tags.map((t) => h('a', { key: t, class: 'chip', href: href('devices', { tag: t }) }, t)),
      ),
  },
  { label: 'Presence', cell: (d) => h(Presence, { online: d.online }) },
  { label: 'Model', cell: (d) => (d.modelVersion ? h('span', { class: 'mono' }, d.modelVersion) : h('span', { class: 'muted' }, 'none')) },
  { label: 'State', cell: (d) => (d.deployState ? h(StatusBadge, { state: d.deployState }) : h('span', { class: 'muted' }, '–')) },
  { label: 'Last seen', cell: (d) => h('span', { title: d.lastSeenAt ?? 'never' }, ago(d.lastSeenAt)), class: 'hide-narrow' },
];

function TextFilter({
  name,
  label,
  value,
  list,
  placeholder,
}: {
  name: string;
  label: string;
  value: string;
  list?: string;
  placeholder?: string;
}) {
  const [text, setText] = useState(value);
  useEffect(() => setText(value), [value]);
  // Applied a moment after typing stops: one request per word, not per key.
  useEffect(() => {
    if (text === value) return;
    const t = setTimeout(() => apply(name, text.trim()), 350);
    return () => clearTimeout(t);
  }, [text]);
  return h(
    Field,
    { label: label, inline: true },
    h('input', {
      type: 'search',
      name,
      value: text,
      list,
      placeholder,
      onInput: (e: Event) => setText((e.currentTarget as HTMLInputElement).value),
    }),
  );
}

function apply(name: string, value: string) {
  const q = new URLSearchParams(location.hash.split('?')[1] ?? '');
  if (value) q.set(name, value);
  else q.delete(name);
  navigate(href('devices', Object.fromEntries(q)), true);
}

export function DevicesPage({ query }: { query: URLSearchParams }) {
  const filter: DeviceQuery = {};
  for (const f of FILTERS) {
    const v = query.get(f);
    if (v) (filter as Record<string, string>)[f] = v;
  }
  const key = JSON.stringify(filter);
  const pages = useCursorPages(key);
  const devices = useResource(() => listDevices({ ...filter, after: pages.cursor, limit: PAGE }), [key, pages.cursor], 10_000);
  const bundles = useResource(() => listBundles({ limit: 100 }).catch(() => []), []);
  const keys = useResource(() => listSigningKeys().catch(() => []), []);
  const versions = [...new Set((bundles.data ?? []).map((b) => `${b.model}@${b.version}`))];
  const select = (name: string, label: string, options: [string, string][]) =>
    h(
      Field,
      { label: label, inline: true },
      h(
        'select',
        { name, value: query.get(name) ?? '', onChange: (e: Event) => apply(name, (e.currentTarget as HTMLSelectElement).value) },
        h('option', { value: '' }, 'any'),
        options.map(([v, l]) => h('option', { key: v, value: v }, l)),
      ),
    );
  const active = FILTERS.filter((f) => query.get(f));

  return h(
    'div',
    { class: 'page' },
    h(PageHeader, {
      title: 'Devices',
      sub: devices.data
        ? `${devices.data.total.toLocaleString('en-US')} ${active.length ? 'match the filters' : 'in the fleet'}`
        : 'The fleet, a page at a time.',
    }),
    h(
      'form',
      { class: 'filters card', role: 'search', 'aria-label': 'Filter devices', onSubmit: (e: Event) => e.preventDefault() },
      h(TextFilter, { name: 'tag', label: 'Tag', value: query.get('tag') ?? '', placeholder: 'e.g. car' }),
      h(TextFilter, { name: 'group', label: 'Group', value: query.get('group') ?? '' }),
      select(
        'state',
        'State',
        STATES.map((s) => [s, s.replace('_', ' ')]),
      ),
      h(TextFilter, {
        name: 'model',
        label: 'Model version',
        value: query.get('model') ?? '',
        list: 'model-versions',
        placeholder: 'name@version or none',
      }),
      h(
        'datalist',
        { id: 'model-versions' },
        ['none', ...versions].map((v) => h('option', { key: v, value: v })),
      ),
      select('online', 'Presence', [
        ['true', 'online'],
        ['false', 'offline'],
      ]),
      active.length
        ? h('button', { type: 'button', class: 'btn btn-quiet', onClick: () => navigate(href('devices'), true) }, 'Clear filters')
        : null,
    ),
    guard(devices, 'Devices', (d) =>
      h(
        'div',
        { class: 'card flush' },
        h(DataTable<Device>, {
          caption: 'Devices',
          columns,
          rows: d.devices,
          rowKey: (x) => x.id,
          empty: active.length ? 'No device matches these filters.' : 'No devices yet. Provision some with flotilla devices add or import.',
        }),
        h(Pager, {
          label: 'Devices',
          page: pages.page,
          pageSize: PAGE,
          shown: d.devices.length,
          total: d.total,
          next: d.next,
          onNext: pages.next,
          onPrev: pages.prev,
        }),
      ),
    ),
    keys.data?.length ? h(AgentTrust, { fingerprint: keys.data[0]!.fingerprint }) : null,
  );
}

/** How a new agent learns which bundle key to trust: the fingerprint, compared out of band (docs/walkthrough.md). */
function AgentTrust({ fingerprint }: { fingerprint: string }) {
  return h(
    'section',
    { class: 'card', 'aria-label': 'Bundle signing key' },
    h('h2', null, 'Bundle signing key'),
    h(
      'p',
      null,
      'Agents install only bundles signed by a key they trust. Start a new agent with this fingerprint; it fetches the key on first start and refuses any other:',
    ),
    h('p', { class: 'mono wrap', 'data-testid': 'key-fingerprint' }, fingerprint),
    h(
      'pre',
      { class: 'mono agent-command' },
      `flotilla agent --server ${location.origin} --device-id ID --token-file TOKEN_FILE --data DIR \\\n  --trust-fingerprint ${fingerprint}`,
    ),
  );
}

// `flotilla devices ...`: provision (one or from a CSV), list, show, relabel, revoke, and set desired bundles.
import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { CliError, EXIT } from '../exit-codes.ts';
import type { ApiErrorBody, Device, DeviceImportLine } from '../../api/contract.ts';
import { parseBody } from '../api-client.ts';
import { api, client, serverOptions } from '../common.ts';
import { answer } from '../typed-api.ts';
import { emit, table } from '../output.ts';
import { createProgressBar } from '../progress.ts';
import { registerRotateCommand } from './enrollments.ts';

const collect = (v: string, prev: string[]) => [...prev, v];

export function registerDeviceCommands(program: Command): void {
  const devices = program
    .command('devices')
    .alias('device')
    .description('The fleet: provision devices, inspect them, point them at bundles');

  serverOptions(
    devices
      .command('add')
      .description('Provision one device; prints its id and token (the token is shown once)')
      .option('--id <id>', 'device id (default: generated); [A-Za-z0-9][A-Za-z0-9_-]{0,63}')
      .option('--name <name>', 'display name')
      .option('--tag <tag>', 'a tag (repeatable)', collect, [])
      .option('--group <group>', 'a group; its broadcasts reach the device (repeatable)', collect, [])
      .option('--attr <key=value>', 'an attribute (repeatable)', collect, [])
      .option('--save-token <file>', 'also write the device token to this file (mode 0600), e.g. for FLOTILLA_DEVICE_TOKEN=$(cat FILE)'),
  ).action(async (o) => {
    const attributes = Object.fromEntries(
      (o.attr as string[]).map((a) => {
        const eq = a.indexOf('=');
        if (eq <= 0) throw new CliError('USAGE', `--attr expects key=value, got '${a}'`, EXIT.USAGE);
        return [a.slice(0, eq), a.slice(eq + 1)];
      }),
    );
    const r = await answer(api(o).devices.$post({ json: { id: o.id, name: o.name, tags: o.tag, groups: o.group, attributes } }));
    if (o.saveToken) writeFileSync(o.saveToken, `${r.token}\n`, { mode: 0o600 });
    emit(
      o,
      r,
      () =>
        `${r.id}\ntoken: ${r.token}\n${o.saveToken ? `(also in ${o.saveToken}) ` : ''}Store the token on the device now: it is not shown again.`,
    );
  });

  serverOptions(
    devices
      .command('import <file>')
      .description(
        'Provision every device in a CSV (columns: id, name, tags, groups separated by ";", other columns become attributes). ' +
          'All or none: the server writes 500 devices per transaction and deletes them again if a later row fails; the error names the CSV line. ' +
          'At most 100,000 rows and 64 columns. Progress goes to stderr.',
      )
      .option('--out <file>', 'write id,token lines to this file (mode 0600) instead of printing tokens'),
  ).action(async (file: string, o) => {
    let csv: string;
    try {
      csv = readFileSync(file, 'utf8');
    } catch (e) {
      throw new CliError('FILE_UNREADABLE', `cannot read ${file}: ${(e as Error).message}`, EXIT.USAGE);
    }
    // A CSV body answered as NDJSON progress lines: it goes around the typed client, typed by the route's lines.
    const res = await client(o).raw('POST', '/api/v1/devices/import', {
      body: csv,
      headers: { 'content-type': 'text/csv', accept: 'application/x-ndjson' },
    });
    const bar = createProgressBar(`importing ${file}`, process.stderr, !o.json || Boolean(process.stderr.isTTY));
    const r = await readImport(res, (p) => bar.update(p.done, p.total, `${p.done}/${p.total} devices`));
    bar.stop();
    if (o.out) writeFileSync(o.out, `id,token\n${r.devices.map((d) => `${d.id},${d.token}`).join('\n')}\n`, { mode: 0o600 });
    const shown = o.out ? { count: r.count, tokensFile: o.out } : r;
    emit(o, shown, () =>
      o.out
        ? `provisioned ${r.count} devices; tokens in ${o.out}`
        : table(
            ['ID', 'TOKEN'],
            r.devices.map((d) => [d.id, d.token]),
          ),
    );
  });

  serverOptions(
    devices
      .command('list')
      .description('List devices (paged by id on the server)')
      .option('--tag <tag>', 'only devices with this tag')
      .option('--group <group>', 'only devices in this group')
      .option('--online', 'only connected devices')
      .option('--offline', 'only disconnected devices')
      .option('--model <name@version>', 'only devices reporting this model version ("none": no model)')
      .option('--state <state>', 'only devices in this deployment state')
      .option('--revoked', 'list revoked devices instead')
      .option('--limit <n>', 'devices per page (1-1000)', '100')
      .option('--after <id>', "start after this id (the previous page's next)")
      .option('--all', 'follow every page'),
  ).action(async (o) => {
    const online = o.offline ? ('false' as const) : o.online ? ('true' as const) : undefined;
    const query = {
      tag: o.tag || undefined,
      group: o.group || undefined,
      model: o.model || undefined,
      state: o.state || undefined,
      limit: o.limit || undefined,
      after: o.after || undefined,
      online,
      revoked: o.revoked ? ('true' as const) : undefined,
    };
    const devicesApi = api(o).devices;
    const all: Device[] = [];
    let page = await answer(devicesApi.$get({ query }));
    for (;;) {
      all.push(...page.devices);
      if (!o.all || !page.next) break;
      page = await answer(devicesApi.$get({ query: { ...query, after: page.next } }));
    }
    emit(
      o,
      { devices: all, next: page.next, total: page.total },
      () =>
        `${table(
          ['ID', 'ONLINE', 'MODEL', 'STATE', 'TAGS', 'GROUPS', 'LAST SEEN'],
          all.map((d) => [
            d.id,
            d.online ? 'yes' : 'no',
            d.modelVersion,
            d.deployState,
            d.tags.join(' '),
            d.groups.join(' '),
            d.lastSeenAt,
          ]),
        )}\n${all.length} of ${page.total}${page.next ? ` (more: --after ${page.next})` : ''}`,
    );
  });

  serverOptions(
    devices
      .command('show <id>')
      .description('One device: presence, reported state (model version), desired state, refusals, recent events')
      .option('--events <n>', 'recent events to include', '20'),
  ).action(async (id: string, o) => {
    const d = await answer(
      api(o).devices[':id'].$get({ param: { id: encodeURIComponent(id) }, query: { events: String(Number(o.events) || 0) } }),
    );
    const bundle = (d.desired as { bundle?: { id: string; model: string; version: string } } | null)?.bundle;
    emit(o, d, () =>
      [
        `${d.id}${d.name ? ` "${d.name}"` : ''}${d.revokedAt ? ` (revoked ${d.revokedAt})` : ''}  ${d.connected ? 'connected' : 'not connected'}, last seen ${d.lastSeenAt ?? 'never'}`,
        `tags: ${d.tags.join(' ') || '-'}   groups: ${d.groups.join(' ') || '-'}`,
        `reported: ${d.modelVersion ?? 'no model'}, state ${d.deployState ?? '-'}${d.reported?.lastError ? `, last error: ${d.reported.lastError}` : ''}`,
        `desired (rev ${d.desiredRev}): ${bundle ? `${bundle.model}@${bundle.version} (${bundle.id.slice(0, 12)})` : 'none'}`,
        `credential: ${d.credential ? `generation ${d.credential.generation}, issued ${d.credential.issuedAt} (${formatAge(d.credential.ageSec)} ago)${d.credential.nextRotationAt ? `, next rotation ${d.credential.nextRotationAt}` : ', no scheduled rotation'}${d.credential.previousValidUntil ? `, previous token accepted until ${d.credential.previousValidUntil}` : ''}` : '-'}`,
        `refused/shed: ${
          Object.entries(d.counters)
            .filter(([, n]) => n > 0)
            .map(([k, n]) => `${k}=${n}`)
            .join(' ') || 'none'
        }`,
        '',
        'events:',
        ...d.events.map((e) => `  ${e.at} ${e.kind}${e.detail ? ` ${JSON.stringify(e.detail)}` : ''}`),
      ].join('\n'),
    );
  });

  serverOptions(
    devices
      .command('revoke <id>')
      .description('Revoke a device: disconnected at once, and it cannot reconnect')
      .option('--reason <text>', 'kept in the audit record'),
  ).action(async (id: string, o) => {
    const d = await answer(
      api(o).devices[':id'].revoke.$post({ param: { id: encodeURIComponent(id) }, json: o.reason ? { reason: o.reason } : {} }),
    );
    emit(o, d, () => `revoked ${d.id}`);
  });

  registerRotateCommand(devices);

  serverOptions(
    devices
      .command('tag <id>')
      .description('Add or remove tags and groups')
      .option('--add <tag>', 'add a tag (repeatable)', collect, [])
      .option('--remove <tag>', 'remove a tag (repeatable)', collect, [])
      .option('--add-group <group>', 'add a group (repeatable)', collect, [])
      .option('--remove-group <group>', 'remove a group (repeatable)', collect, []),
  ).action(async (id: string, o) => {
    const d = await answer(
      api(o).devices[':id'].$patch({
        param: { id: encodeURIComponent(id) },
        json: { addTags: o.add, removeTags: o.remove, addGroups: o.addGroup, removeGroups: o.removeGroup },
      }),
    );
    emit(o, d, () => `${d.id}: tags ${d.tags.join(' ') || '-'}; groups ${d.groups.join(' ') || '-'}`);
  });

  serverOptions(
    devices
      .command('desired <ids...>')
      .description('Point devices at a bundle (published retained, QoS 1), or clear with --none')
      .option('--bundle <id>', 'bundle id (or a unique prefix of 8+ hex characters)')
      .option('--none', 'no bundle: keep running what they run')
      .option('--rollback', 'an operator-ordered return to an older bundle'),
  ).action(async (ids: string[], o) => {
    if (!o.bundle === !o.none) throw new CliError('USAGE', 'give either --bundle ID or --none', EXIT.USAGE);
    const r = await answer(
      api(o).devices.desired.$post({ json: { devices: ids, bundle: o.none ? null : o.bundle, rollback: o.rollback || undefined } }),
    );
    emit(
      o,
      r,
      () =>
        `desired state published to ${r.updated.length} device(s)${r.skipped.length ? `; skipped (unknown or revoked): ${r.skipped.join(' ')}` : ''}`,
    );
    if (r.updated.length === 0) process.exitCode = EXIT.FAILED;
  });
}

/** 93784 → `1d 2h`; 59 → `59s`: an age at a glance. */
function formatAge(sec: number): string {
  const d = Math.floor(sec / 86_400);
  const h = Math.floor((sec % 86_400) / 3600);
  const m = Math.floor((sec % 3600) / 60);
  if (d) return `${d}d ${h}h`;
  if (h) return `${h}h ${m}m`;
  return m ? `${m}m` : `${sec}s`;
}

/** Reads an import's answer: NDJSON lines (progress, then done or error) or, from an older server, one JSON body. */
async function readImport(
  res: Response,
  progress: (p: { done: number; total: number }) => void,
): Promise<{ count: number; devices: { id: string; token: string }[] }> {
  const fail = (status: number, e: Partial<ApiErrorBody['error']> | undefined, text: string) =>
    new CliError(
      e?.code ?? `HTTP_${status}`,
      e?.message ?? text,
      status === 401 || status === 403 ? EXIT.AUTH : status >= 500 ? EXIT.FAILED : EXIT.REJECTED,
    );
  if (!(res.headers.get('content-type') ?? '').includes('application/x-ndjson')) {
    const text = await res.text();
    const parsed = parseBody(text);
    if (!res.ok) throw fail(res.status, (parsed as Partial<ApiErrorBody> | null)?.error, text);
    return parsed as { count: number; devices: { id: string; token: string }[] };
  }
  const decoder = new TextDecoder();
  let buf = '';
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buf += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = JSON.parse(buf.slice(0, nl)) as DeviceImportLine;
      buf = buf.slice(nl + 1);
      if (line.type === 'progress') progress(line);
      else if (line.type === 'error') throw fail(line.status, line.error, JSON.stringify(line));
      else return { count: line.count, devices: line.devices };
    }
  }
  throw new CliError(
    'IMPORT_INTERRUPTED',
    'the server closed the import answer before its result: check `flotilla devices list` for what was created',
    EXIT.FAILED,
  );
}

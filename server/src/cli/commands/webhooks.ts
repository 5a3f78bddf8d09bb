// `flotilla webhooks ...` (admin) and `flotilla events ...` (viewer): operator webhooks with their
// delivery logs, and the event log (a page, or a live tail that resumes after a sequence number).
import type { Command } from 'commander';
import { api, client, serverOptions } from '../common.ts';
import { CliError, EXIT } from '../exit-codes.ts';
import { answer } from '../typed-api.ts';
import { emit, printable, table } from '../output.ts';
import { readSse } from '../sse.ts';
import { readSecretFile } from '../secret-flags.ts';
import { apiFailure, parseBody } from '../api-client.ts';
import type { WebhookAnswer, WebhookDelivery } from '../../api/contract.ts';

const state = (h: WebhookAnswer) => (h.enabled ? 'enabled' : `disabled: ${h.disabledReason ?? ''}`);
const last = (h: WebhookAnswer) => {
  const d = h.lastDeliveries[0];
  return d ? `${d.ok ? 'ok' : 'failed'} ${d.status ?? '-'} #${d.sequence} ${d.at}` : '-';
};
const deliveryRow = (d: WebhookDelivery) => [
  d.at,
  d.sequence,
  d.type.replace(/^flotilla\./, ''),
  d.attempt,
  d.ok ? 'ok' : 'failed',
  d.status ?? '-',
  `${d.latencyMs} ms`,
  printable(d.error ?? ''),
];

function afterOption(v: string | undefined): string | undefined {
  if (v !== undefined && !/^\d+$/.test(v)) throw new CliError('USAGE', `--after must be an event sequence number, not '${v}'`, EXIT.USAGE);
  return v;
}

export function registerWebhookCommands(program: Command): void {
  const hooks = program
    .command('webhooks')
    .alias('webhook')
    .description('Webhooks: POST each matching event, signed, to a URL (admin); see docs/events.md')
    .addHelpText(
      'after',
      '\nEach request carries the CloudEvent JSON and headers webhook-id (the event id), webhook-timestamp and\nwebhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">. Failed deliveries are retried with backoff;\na hook that keeps failing is disabled with the reason (see `webhooks list`) until `webhooks enable`.',
    );

  serverOptions(
    hooks
      .command('add <url>')
      .description('Add a webhook; prints its signing secret once')
      .requiredOption('--events <filters>', "comma-separated event types or globs, e.g. 'rollout.*,alert.opened' or '*'")
      .option('--secret-file <file>', 'read the signing secret (at least 16 bytes) from this file; generated when omitted')
      .option('--description <text>', 'what it is for'),
  ).action(async (url: string, o) => {
    const events = String(o.events)
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const secret = o.secretFile === undefined ? undefined : readSecretFile(o.secretFile, '--secret-file');
    const r = await answer(api(o).webhooks.$post({ json: { url, events, secret, description: o.description } }));
    emit(o, r, () => `${r.id} → ${r.url} (${r.events.join(', ')})\nsecret: ${r.secret}\nStore the secret now: it is not shown again.`);
  });

  serverOptions(hooks.command('list').description('List webhooks: enabled or disabled (with why), and the last delivery')).action(
    async (o) => {
      const { webhooks } = await answer(api(o).webhooks.$get());
      emit(o, { webhooks }, () =>
        table(
          ['ID', 'URL', 'EVENTS', 'STATE', 'CURSOR', 'LAST DELIVERY'],
          webhooks.map((h) => [h.id, h.url, h.events.join(','), state(h), h.cursor, last(h)]),
        ),
      );
    },
  );

  serverOptions(hooks.command('remove <id>').alias('rm').description('Remove a webhook and its delivery log')).action(
    async (id: string, o) => {
      const r = await answer(api(o).webhooks[':id'].$delete({ param: { id } }));
      emit(o, r, () => `removed ${id}`);
    },
  );

  serverOptions(
    hooks.command('enable <id>').description('Enable a webhook again: delivery resumes, in order, at the event it stopped at'),
  ).action(async (id: string, o) => {
    const r = await answer(api(o).webhooks[':id'].enable.$post({ param: { id } }));
    emit(o, r, () => `${id} enabled; resumes after event ${r.cursor}`);
  });

  serverOptions(
    hooks
      .command('disable <id>')
      .description('Disable a webhook by hand (events are still recorded for it)')
      .option('--reason <text>', 'why'),
  ).action(async (id: string, o) => {
    const r = await answer(api(o).webhooks[':id'].disable.$post({ param: { id }, json: { reason: o.reason } }));
    emit(o, r, () => `${id} ${state(r)}`);
  });

  serverOptions(
    hooks
      .command('deliveries <id>')
      .description("A webhook's delivery log, newest first: attempt, status, error, latency")
      .option('--limit <n>', 'how many (at most 200)', '20'),
  ).action(async (id: string, o) => {
    const r = await answer(api(o).webhooks[':id'].deliveries.$get({ param: { id }, query: { limit: String(o.limit) } }));
    emit(o, r, () => table(['AT', 'SEQ', 'TYPE', 'ATTEMPT', 'RESULT', 'STATUS', 'LATENCY', 'ERROR'], r.deliveries.map(deliveryRow)));
  });

  const events = program.command('events').description('The event log: registry, rollout, alert, retraining and bundle events (viewer)');

  serverOptions(
    events
      .command('list')
      .description('Events after a sequence number, oldest first')
      .option('--after <seq>', 'sequence number to start after', '0')
      .option('--limit <n>', 'at most this many (1-1000)', '100')
      .option('--types <filters>', "comma-separated type filters, e.g. 'rollout.*'"),
  ).action(async (o) => {
    const r = await answer(api(o).events.page.$get({ query: { after: afterOption(o.after), limit: String(o.limit), types: o.types } }));
    emit(
      o,
      r,
      () =>
        `${table(
          ['SEQ', 'TIME', 'TYPE', 'SUBJECT'],
          r.events.map((e) => [e.sequence, e.time, e.type, e.subject]),
        )}\nnext: --after ${r.next} (newest ${r.head})`,
    );
  });

  serverOptions(
    events
      .command('tail')
      .description('Follow events as they happen (Ctrl-C to stop); --json prints one CloudEvent per line')
      .option('--after <seq>', 'replay from after this sequence number first (default: from now)')
      .option('--types <filters>', "comma-separated type filters, e.g. 'rollout.*'"),
  ).action(async (o) => {
    const q = new URLSearchParams();
    if (afterOption(o.after) !== undefined) q.set('after', o.after);
    if (o.types) q.set('types', o.types);
    const res = await client(o).raw('GET', `/api/v1/events?${q}`);
    if (!res.ok || !res.body) {
      const text = await res.text();
      throw apiFailure(res.status, parseBody(text), text);
    }
    for await (const ev of readSse(res.body)) {
      if (ev.event !== 'message') continue;
      const e = JSON.parse(ev.data) as { sequence: number; time: string; type: string; subject: string };
      process.stdout.write(o.json ? `${ev.data}\n` : `${e.sequence}\t${e.time}\t${e.type}\t${printable(e.subject)}\n`);
    }
  });
}

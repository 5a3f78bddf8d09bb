// Issue 17 part 3 must-shows on real server processes (SQLite): a real HTTP receiver gets every event of a
// rollout in order, each once, with a valid signature; a receiver that is down gets them afterwards in
// order; a receiver that always fails is disabled and the API shows why; the SSE stream resumes exactly
// after N across a server restart.
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linearOnnx, provision, registerOnnxModel, until } from '../delivery/fleet-kit.ts';
import { FLOTILLA_BIN, restartServerProcess, runCli, startServerProcess, type ServerHandle } from '../support/server-process.ts';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  event: { id: string; sequence: number; type: string; subject: string };
}

/** A real HTTP receiver answering `status()` to every POST; `listen(port)` again after `close()` simulates an outage. */
function receiver(status: () => number = () => 204) {
  const got: Received[] = [];
  let server: Server | null = null;
  const listen = (port = 0) =>
    new Promise<number>((resolve, reject) => {
      server = createServer((req, res) => {
        let body = '';
        req.setEncoding('utf8');
        req.on('data', (c) => (body += c));
        req.on('end', () => {
          const code = status();
          if (code < 300) got.push({ headers: req.headers, body, event: JSON.parse(body) });
          res.writeHead(code).end();
        });
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve((server!.address() as AddressInfo).port));
    });
  const close = () =>
    new Promise<void>((r) => {
      if (!server) return r();
      server.closeAllConnections();
      server.close(() => r());
      server = null;
    });
  return { got, listen, close };
}

/** What docs/events.md tells receivers to do, written independently of the server's code. */
function validSignature(secret: string, r: Received): boolean {
  const key = secret.startsWith('whsec_') ? Buffer.from(secret.slice(6), 'base64') : Buffer.from(secret);
  const expected = `v1,${createHmac('sha256', key).update(`${r.headers['webhook-id']}.${r.headers['webhook-timestamp']}.${r.body}`).digest('base64')}`;
  const age = Math.abs(Date.now() / 1000 - Number(r.headers['webhook-timestamp']));
  return String(r.headers['webhook-signature']).split(' ').includes(expected) && age < 300;
}

/** Reads the SSE stream until `count` events came; returns them with the SSE ids. */
async function readStream(
  srv: ServerHandle,
  query: string,
  count: number,
  headers: Record<string, string> = {},
  during?: () => Promise<void>,
) {
  const ac = new AbortController();
  const res = await fetch(`${srv.url}/api/v1/events${query}`, {
    headers: { authorization: `Bearer ${srv.token}`, ...headers },
    signal: ac.signal,
  });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/event-stream');
  const out: { id: string; event: { sequence: number; id: string; type: string } }[] = [];
  const decoder = new TextDecoder();
  let buf = '';
  const timer = setTimeout(() => ac.abort(), 20_000);
  const pending = during?.();
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buf += decoder.decode(chunk, { stream: true });
      let i: number;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i).split('\n');
        buf = buf.slice(i + 2);
        const id = block
          .find((l) => l.startsWith('id:'))
          ?.slice(3)
          .trim();
        const data = block
          .filter((l) => l.startsWith('data:'))
          .map((l) => l.slice(5).trim())
          .join('\n');
        if (id) out.push({ id, event: JSON.parse(data) });
      }
      if (out.length >= count) break;
    }
  } finally {
    clearTimeout(timer);
    ac.abort();
    await pending;
  }
  return out;
}

const ROLLOUT_TYPES = [
  'flotilla.rollout.created',
  'flotilla.rollout.started',
  'flotilla.rollout.stage_passed',
  'flotilla.rollout.finished',
];

let srv: ServerHandle;
const good = receiver();
const down = receiver();
const failing = receiver(() => 500);
let downPort = 0;
const secrets: Record<string, string> = {};
const ids: Record<string, string> = {};
let rolloutId = '';

beforeAll(async () => {
  // Backoff of 100 ms capped at 1 s and many allowed failures: an outage of seconds stands in for a minute.
  srv = await startServerProcess({
    env: {
      FLOTILLA_ROLLOUT_TICK_MS: '300',
      FLOTILLA_WEBHOOK_BACKOFF_MS: '100',
      FLOTILLA_WEBHOOK_BACKOFF_MAX_MS: '1000',
      FLOTILLA_WEBHOOK_MAX_FAILURES: '1000',
    },
  });
  const goodPort = await good.listen();
  downPort = await down.listen();
  await down.close();
  const failingPort = await failing.listen();
  for (const [name, port, events, secret] of [
    ['good', goodPort, ['rollout.*'], undefined],
    ['down', downPort, ['rollout.*', 'bundle.created'], 'an operator chosen secret'],
    ['failing', failingPort, ['*'], undefined],
  ] as const) {
    const r = await srv.api('POST', '/api/v1/webhooks', { url: `http://127.0.0.1:${port}/hook`, events, ...(secret ? { secret } : {}) });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    secrets[name] = r.body.secret;
    ids[name] = r.body.id;
  }
  expect(secrets.good).toMatch(/^whsec_/);
  expect(secrets.down).toBe('an operator chosen secret');
}, 90_000);

afterAll(async () => {
  await srv?.dispose();
  await Promise.all([good.close(), down.close(), failing.close()]);
});

describe('events and webhooks end to end', () => {
  it('refuses bad hooks with clear errors, and hooks need an admin while events need a viewer', async () => {
    const add = (body: Record<string, unknown>, token?: string) => srv.api('POST', '/api/v1/webhooks', body, token);
    const bad = [
      [{ url: 'ftp://127.0.0.1/x', events: ['*'] }, /only http and https/],
      [{ url: 'not a url', events: ['*'] }, /is not a URL/],
      [{ url: 'http://user:pw@127.0.0.1/x', events: ['*'] }, /no credentials/],
      [{ url: 'http://127.0.0.1/x', events: ['rolout.*'] }, /matches no event type/],
      [{ url: 'http://127.0.0.1/x', events: [] }, /at least one event filter/],
      [{ url: 'http://127.0.0.1/x', events: ['rollout.*'], secret: 'x'.repeat(257) }, /at most 256/],
      [{ url: 'http://127.0.0.1/x', events: ['rollout.*'], secret: 'short' }, /at least 16 bytes/],
    ] as const;
    for (const [body, message] of bad) {
      const r = await add(body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.message).toMatch(message);
    }
    const viewer = (await srv.api('POST', '/api/v1/tokens', { name: 'v', role: 'viewer' })).body.token as string;
    const operator = (await srv.api('POST', '/api/v1/tokens', { name: 'o', role: 'operator' })).body.token as string;
    expect((await add({ url: 'http://127.0.0.1/x', events: ['*'] }, operator)).status).toBe(403);
    expect((await srv.api('GET', '/api/v1/webhooks', undefined, viewer)).status).toBe(403);
    expect((await srv.api('GET', '/api/v1/events/page?after=0', undefined, viewer)).status).toBe(200);
    expect((await srv.api('GET', '/api/v1/events/page?after=-1')).status).toBe(400);
    expect((await srv.api('GET', '/api/v1/events/page?after=0', undefined, 'flt_wrong')).status).toBe(401);
    // The CLI: help that explains, refusals as exit codes.
    const env = { FLOTILLA_TOKEN: srv.token };
    const help = await runCli(['webhooks', '--help'], env);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/webhook-signature: v1,<base64 HMAC-SHA256/);
    const refused = await runCli(['webhooks', 'add', 'ftp://127.0.0.1/x', '--events', '*', '--server', srv.url, '--json'], env);
    expect(refused.code).toBe(6);
    expect(refused.stdout + refused.stderr).toMatch(/only http and https/);
    expect((await runCli(['events', 'list', '--after', 'abc', '--server', srv.url], env)).code).toBe(2);
    expect((await runCli(['webhooks', 'list', '--server', srv.url, '--json'], { FLOTILLA_TOKEN: viewer })).code).toBe(4);
    // The secret is never shown again after creation.
    const listed = (await srv.api('GET', '/api/v1/webhooks')).body.webhooks;
    expect(listed).toHaveLength(3);
    expect(JSON.stringify(listed)).not.toContain(secrets.good);
    expect(JSON.stringify(listed)).not.toContain(secrets.down);
  });

  it('a receiver gets every event of a rollout in order, each once, signed; a receiver that was down gets them afterwards', async () => {
    const { version } = await registerOnnxModel(srv, 'lin', linearOnnx(4, 3));
    expect((await srv.api('PUT', `/api/v1/models/lin/aliases/champion`, { version, reason: 'first' })).status).toBe(200);
    const b = await srv.api('POST', '/api/v1/bundles', { model: `lin@${version}`, version: '1.0.0', artifact: 'model.onnx' });
    expect(b.status, JSON.stringify(b.body)).toBe(201);
    for (let i = 0; i < 4; i++) await provision(srv, { name: `d${i}`, tags: ['ev'] });
    const gates = { minReporting: 0, maxErrorRate: null, maxConfidenceDrop: null, maxDriftScore: null };
    const r = await srv.api('POST', '/api/v1/rollouts', {
      bundle: b.body.id,
      target: { tags: ['ev'] },
      stages: [
        { percent: 50, bakeSec: 0, gates },
        { percent: 100, bakeSec: 0, gates },
      ],
    });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    rolloutId = r.body.id;
    await until(
      () => srv.api('GET', `/api/v1/rollouts/${rolloutId}`),
      (s) => s.body.state === 'completed',
      30_000,
      'rollout completed',
    );

    await until(
      () => good.got.length,
      (n) => n >= ROLLOUT_TYPES.length,
      15_000,
      'good receiver got the rollout',
    );
    // The log's own view of this rollout, to compare what the receiver got with.
    const logged = (await srv.api('GET', '/api/v1/events/page?after=0&types=rollout.*')).body.events as {
      id: string;
      sequence: number;
      type: string;
      subject: string;
    }[];
    expect(logged.map((e) => e.type)).toEqual(ROLLOUT_TYPES);
    expect(good.got.map((x) => x.event.id)).toEqual(logged.map((e) => e.id));
    expect(good.got.map((x) => x.headers['webhook-id'])).toEqual(logged.map((e) => e.id));
    for (const x of good.got) {
      expect(validSignature(secrets.good!, x), x.body).toBe(true);
      expect(validSignature(secrets.down!, x)).toBe(false);
      expect(x.headers['content-type']).toContain('application/cloudevents+json');
      expect(x.event).toMatchObject({
        specversion: '1.0',
        subject: rolloutId,
        source: '/flotilla/rollouts',
        datacontenttype: 'application/json',
      });
    }
    const seqs = good.got.map((x) => x.event.sequence);
    expect([...seqs].sort((p, q) => p - q)).toEqual(seqs);
    expect(good.got[2]!.event).toMatchObject({ data: { stage: 0, to: 'running', model: 'lin' } });

    // The receiver that is down: attempts fail (the delivery log says why) and it is not disabled.
    // Six failed tries: what a one-minute outage costs with the default timings (1 + 2 + 4 + 8 + 16 + 32 s of
    // backoff), here with a 100 ms base.
    const downLog = await until(
      () => srv.api('GET', `/api/v1/webhooks/${ids.down}/deliveries`),
      (x) => x.body.deliveries.length >= 6,
      20_000,
      'failed attempts logged',
    );
    expect(downLog.body.deliveries.slice(-6).map((d: { attempt: number }) => d.attempt)).toEqual([6, 5, 4, 3, 2, 1]);
    expect(downLog.body.deliveries[0]).toMatchObject({ ok: false, status: null, type: 'flotilla.bundle.created' });
    expect(downLog.body.deliveries[0].error).toMatch(/ECONNREFUSED/);
    expect((await srv.api('GET', `/api/v1/webhooks/${ids.down}`)).body).toMatchObject({ enabled: true, disabledReason: null });
    await down.listen(downPort);
    await until(
      () => down.got.length,
      (n) => n >= 5,
      15_000,
      'down receiver caught up',
    );
    expect(down.got.map((x) => x.event.type)).toEqual(['flotilla.bundle.created', ...ROLLOUT_TYPES]);
    expect(down.got.slice(1).map((x) => x.event.id)).toEqual(logged.map((e) => e.id));
    for (const x of down.got) expect(validSignature(secrets.down!, x)).toBe(true);
    const after = (await srv.api('GET', `/api/v1/webhooks/${ids.down}`)).body;
    expect(after).toMatchObject({ enabled: true, failures: 0, cursor: logged.at(-1)!.sequence });
    expect(after.lastDeliveries[0]).toMatchObject({ ok: true, status: 204, type: 'flotilla.rollout.finished' });
    // Each once: nothing arrives twice, even after more time.
    await until(
      () => srv.api('GET', `/api/v1/webhooks/${ids.good}`),
      (x) => x.body.cursor >= logged.at(-1)!.sequence,
      5000,
      'good hook cursor',
    );
    expect(new Set(good.got.map((x) => x.event.id)).size).toBe(good.got.length);
    expect(new Set(down.got.map((x) => x.event.id)).size).toBe(down.got.length);
  }, 90_000);

  it('the SSE stream resumes exactly after N across a restart; a hook that always fails is disabled and shows why', async () => {
    const all = (await srv.api('GET', '/api/v1/events/page?after=0')).body;
    expect(all.events.map((e: { sequence: number }) => e.sequence)).toEqual(Array.from({ length: all.head }, (_, i) => i + 1));
    expect(all.events.map((e: { type: string }) => e.type)).toEqual([
      'flotilla.model.alias_moved',
      'flotilla.bundle.created',
      ...ROLLOUT_TYPES,
    ]);
    const before = await readStream(srv, '?after=0', all.head);
    expect(before.map((x) => Number(x.id))).toEqual(all.events.map((e: { sequence: number }) => e.sequence));

    // Restart with a short failure budget: the failing hook (failing since the start) is disabled.
    srv = await restartServerProcess(srv, {
      env: { FLOTILLA_WEBHOOK_BACKOFF_MS: '50', FLOTILLA_WEBHOOK_BACKOFF_MAX_MS: '200', FLOTILLA_WEBHOOK_MAX_FAILURES: '3' },
    });
    const n = 2;
    const resumed = await readStream(srv, `?after=${n}`, all.head - n);
    expect(resumed.map((x) => x.event.id)).toEqual(all.events.slice(n).map((e: { id: string }) => e.id));
    expect(Number(resumed[0]!.id)).toBe(n + 1);
    // Last-Event-ID (what an EventSource sends on reconnect) wins over the ?after= it repeats; new events follow live.
    const live = await readStream(srv, '?after=0', all.head - 4 + 1, { 'last-event-id': '4' }, async () => {
      await new Promise((r) => setTimeout(r, 300));
      expect((await srv.api('PUT', '/api/v1/models/lin/aliases/stable', { version: 1, reason: 'after restart' })).status).toBe(200);
    });
    expect(live.map((x) => Number(x.id))).toEqual(Array.from({ length: all.head - 4 + 1 }, (_, i) => i + 5));
    expect(live.at(-1)!.event).toMatchObject({ type: 'flotilla.model.alias_moved', sequence: all.head + 1, subject: 'lin@stable' });
    expect((await srv.api('GET', `/api/v1/events?after=${all.head + 50}`)).status).toBe(400);
    // `?token=` (EventSource cannot send headers) and a type filter; and the CLI's tail, resuming after N.
    const filtered = await fetch(`${srv.url}/api/v1/events?after=0&types=bundle.*&token=${srv.token}`);
    const reader = filtered.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    expect(first).toMatch(/^data: \{.*"type":"flotilla\.bundle\.created".*\nid: 2\n/);
    const tail = spawn(process.execPath, [FLOTILLA_BIN, 'events', 'tail', '--after', String(all.head - 1), '--json', '--server', srv.url], {
      env: { ...process.env, FLOTILLA_TOKEN: srv.token },
    });
    try {
      let out = '';
      tail.stdout.on('data', (d) => (out += d));
      await until(
        () => out.split('\n').filter(Boolean).length,
        (n) => n >= 2,
        20_000,
        'two lines from events tail',
      );
      expect(
        out
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l).sequence),
      ).toEqual([all.head, all.head + 1]);
    } finally {
      tail.kill();
    }

    const disabled = await until(
      () => srv.api('GET', `/api/v1/webhooks/${ids.failing}`),
      (x) => x.body.enabled === false,
      20_000,
      'failing hook disabled',
    );
    expect(disabled.body.disabledReason).toMatch(/consecutive failed deliveries; last: HTTP 500 \(event 1 flotilla\.model\.alias_moved\)/);
    expect(disabled.body.cursor).toBe(0);
    expect(disabled.body.lastDeliveries[0]).toMatchObject({ ok: false, status: 500, error: 'HTTP 500', sequence: 1 });
    expect(failing.got).toEqual([]);
    // The operator sees it in the CLI too, and can enable it again.
    const env = { FLOTILLA_TOKEN: srv.token };
    const list = await runCli(['webhooks', 'list', '--server', srv.url, '--json'], env);
    expect(list.code, list.stderr).toBe(0);
    const row = JSON.parse(list.stdout).webhooks.find((h: { id: string }) => h.id === ids.failing);
    expect(row).toMatchObject({ enabled: false, disabledReason: disabled.body.disabledReason });
    const human = await runCli(['webhooks', 'list', '--server', srv.url], env);
    expect(human.stdout).toMatch(/disabled: disabled after \d+ consecutive failed deliveries/);
    const enable = await runCli(['webhooks', 'enable', ids.failing!, '--server', srv.url, '--json'], env);
    expect(enable.code, enable.stderr).toBe(0);
    expect(JSON.parse(enable.stdout)).toMatchObject({ enabled: true, disabledReason: null, failures: 0 });
    const missing = await runCli(['webhooks', 'enable', 'wh_nope', '--server', srv.url, '--json'], env);
    expect(missing.code).toBe(5);
  }, 120_000);
});

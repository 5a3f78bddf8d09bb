// Status events survive an agent restart while offline: with the real server stopped, a sideloaded bundle
// fails its self-test and rolls back; the agent restarts (still offline), the server comes back on the same
// data folder and ports, and the server's device timeline shows every state change with its reason, once.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createAgent, type Agent, type CreateAgentOptions, type StateChange } from '@flotilla/edge-agent';
import { restartServerProcess, startServerProcess, type ServerHandle } from '../support/server-process.ts';
import { waitUntil } from './harness/wait.ts';
import { deviceEvents, deviceFor, serverBundle, serverKey } from './server-kit.ts';

let srv: ServerHandle;
const agentDir = mkdtempSync(join(tmpdir(), 'agent-status-'));

beforeAll(async () => {
  srv = await startServerProcess();
});
afterAll(async () => {
  await srv?.dispose();
  rmSync(agentDir, { recursive: true, force: true });
});

it('sends the status events of an update that failed while offline after an agent restart, with their reasons', async () => {
  const good = await serverBundle(srv, 'status-classifier');
  // The same model, bundled again with a self-test no output can meet: it must roll back on any device.
  const r = await srv.api('POST', '/api/v1/bundles', {
    model: 'status-classifier',
    version: '2.0.0',
    selfTests: [
      { name: 'impossible', inputs: { x: Array(16).fill(0.5) }, expected: { y: [7, 7, 7] }, tolerance: { abs: 0.001, rel: 0.001 } },
    ],
  });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  const broken = new Uint8Array(
    await (await fetch(`${srv.url}/api/v1/blobs/${r.body.id}`, { headers: { authorization: `Bearer ${srv.token}` } })).arrayBuffer(),
  );
  const device = await deviceFor(srv, good.id);
  const options: CreateAgentOptions = {
    deviceId: device.id,
    token: device.token,
    server: srv.url,
    dataDir: agentDir,
    trustedKeys: [await serverKey(srv)],
    backoff: { minMs: 200, maxMs: 1000 },
  };
  let agent: Agent = await createAgent(options);
  await waitUntil(() => agent.model?.version === good.version && agent.state === 'idle', 'the good bundle installed', 30_000);
  await waitUntil(
    async () => (await deviceEvents(srv, device.id)).some((e) => e.kind === 'status' && e.detail.to === 'idle'),
    'the install reported',
    10_000,
  );
  const before = (await deviceEvents(srv, device.id)).filter((e) => e.kind === 'status').length;

  const offline: StateChange[] = [];
  srv = await restartServerProcess(srv, {
    whileDown: async () => {
      await waitUntil(() => !agent.online, 'the agent offline');
      agent.on('state', (s) => offline.push(s));
      const result = await agent.install(broken);
      expect(result).toMatchObject({ ok: false, model: { version: good.version } });
      // Restarted while the server is still away: what it could not send lives only on its disk now.
      await agent.close();
      agent = await createAgent(options);
      await new Promise((res) => setTimeout(res, 1500));
      expect(agent.online).toBe(false);
    },
  });
  try {
    expect(offline.map((s) => s.to)).toContain('rolling_back');
    expect(offline.at(-1)?.to).toBe('idle');
    const timeline = await waitUntil(
      async () => {
        const events = (await deviceEvents(srv, device.id)).filter((e) => e.kind === 'status').reverse();
        return events.length >= before + offline.length ? events : null;
      },
      'the offline status events on the server',
      30_000,
    );
    // Oldest first: the offline update's changes follow the first install, in order, each once, with its reason.
    const sent = timeline
      .slice(before)
      .map((e) => ({ from: e.detail.from, to: e.detail.to, event: e.detail.event, reason: e.detail.reason }));
    expect(sent).toEqual(offline.map((s) => ({ from: s.from, to: s.to, event: s.event, reason: s.reason })));
    const rollback = offline.find((s) => s.to === 'rolling_back')!;
    expect(rollback.reason).toMatch(/self-test|impossible/i);
    expect(agent.model?.version).toBe(good.version);
    console.log(`offline: ${offline.map((s) => `${s.from}→${s.to}`).join(' ')}; rollback reason: ${rollback.reason}`);
  } finally {
    await agent.close();
  }
}, 120_000);

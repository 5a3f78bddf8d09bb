// `flotilla server --rotate-every` on a real server process, embedded broker and real agents: credentials
// older than the period rotate by themselves through the on-demand path (the agents receive their new
// token and reconnect with it, the old one is then refused), and `devices show` tells the credential's
// generation, age and next rotation. The spreading and the fake-clock cases: test/identity/rotation-schedule.test.ts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair, toHex } from '@flotilla/firmware-bundler';
import { createAgent, OnnxNodeRuntime, type Agent } from '@flotilla/edge-agent';
import { SimStorage } from '../../server/src/simulator/sim-storage.ts';
import { runCli, startServerProcess, type ServerHandle } from '../support/server-process.ts';
import { connectOnce } from './mqtt-connect.ts';

async function until(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

let srv: ServerHandle;
let base: string;
const agents: { id: string; agent: Agent; logs: string[] }[] = [];
beforeAll(async () => {
  srv = await startServerProcess({ args: ['--rotate-every', '8s'] });
  base = mkdtempSync(join(tmpdir(), 'scheduled-rotation-'));
}, 120_000);
afterAll(async () => {
  await Promise.all(agents.map((a) => a.agent.close()));
  await srv?.dispose();
  if (base) rmSync(base, { recursive: true, force: true });
});

describe('flotilla server --rotate-every', () => {
  it('rotates every credential once it is older than the period; agents follow; devices show tells when', async () => {
    const made = await srv.api('POST', '/api/v1/enrollments', { name: 'sched', quota: 3, expiresInSec: 600 });
    const runtime = new OnnxNodeRuntime();
    const trusted = toHex(generateKeyPair().publicKey);
    for (const id of ['S-1', 'S-2', 'S-3']) {
      const logs: string[] = [];
      const storage = await SimStorage.open(join(base, id));
      const agent = await createAgent({
        deviceId: id,
        claim: made.body.claim,
        server: srv.url,
        mqttUrl: srv.info.mqttUrl,
        storage,
        runtime,
        trustedKeys: [trusted],
        backoff: { minMs: 100, maxMs: 500 },
        log: (l) => logs.push(l),
      });
      agents.push({ id, agent, logs });
    }
    await until(() => agents.every((a) => a.agent.online), 'agents online');
    const env = { FLOTILLA_SERVER: srv.url, FLOTILLA_TOKEN: srv.token };
    const before = (await srv.api('GET', '/api/v1/devices/S-1')).body;
    expect(before.credential).toMatchObject({ generation: 1, previousValidUntil: null });
    expect(Date.parse(before.credential.nextRotationAt) - Date.parse(before.credential.issuedAt)).toBe(8000);
    const human = await runCli(['devices', 'show', 'S-1'], env);
    expect(human.stdout).toMatch(/credential: generation \d+, issued .* \(\d+s ago\), next rotation /);

    // No operator action: within a period and a few ticks every agent is on generation 2.
    await until(
      () => agents.every((a) => a.logs.some((l) => l.includes('rotated to generation 2')) && a.agent.online),
      'every agent rotated by the schedule',
      25_000,
    );
    const shown = await runCli(['devices', 'show', 'S-1', '--json'], env);
    expect(shown.code).toBe(0);
    const after = JSON.parse(shown.stdout);
    expect(after.credential.generation).toBeGreaterThanOrEqual(2);
    expect(after.events.map((e: { kind: string }) => e.kind)).toContain('enrolled');
    // The first token is refused now (the agent connected with its new one, which ends the overlap).
    const first = JSON.parse(new TextDecoder().decode((await (await SimStorage.open(join(base, 'S-2'))).read('identity/device.json'))!))
      .token as string;
    expect(await connectOnce(srv.info.mqttUrl, 'S-2', first)).toBe(4);
  }, 60_000);

  it('refuses a duration it cannot read, saying what to write', async () => {
    const r = await runCli(['server', '--rotate-every', 'monthly', '--data', join(base, 'bad'), '--port', '0', '--mqtt-port', '0']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("--rotate-every 'monthly' is not a duration: write N followed by s, m, h or d");
  }, 30_000);
});

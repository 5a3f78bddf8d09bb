// agent.ready(): the documented wait for a first model on a fresh device, and a close that says nothing.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAgent, type Agent } from '@flotilla/edge-agent';
import { makeBundle, type TestBundle } from './harness/test-bundles.ts';
import { TRUSTED_HEX } from './harness/test-keys.ts';
import { sampleRow } from './harness/test-models.ts';

const ROW = sampleRow(16, 7);
const freshAgent = (dataDir = mkdtempSync(join(tmpdir(), 'agent-ready-'))): Promise<Agent> =>
  createAgent({ deviceId: 'ready-1', offline: true, dataDir, trustedKeys: [TRUSTED_HEX] });

let v1: TestBundle;
beforeAll(async () => {
  v1 = await makeBundle({ version: '1.0.0', sequence: 1 });
});

describe('agent.ready()', () => {
  it('waits on a fresh device until the first model serves, then predict answers', async () => {
    const agent = await freshAgent();
    await expect(agent.predict(ROW)).rejects.toMatchObject({ code: 'AGENT_NO_MODEL' });
    let resolved = false;
    const ready = agent.ready().then((m) => ((resolved = true), m));
    await new Promise((r) => setTimeout(r, 50));
    expect(resolved).toBe(false);
    await agent.install(v1.bytes);
    expect(await ready).toMatchObject({ name: 'classifier', version: '1.0.0' });
    expect((await agent.predict(ROW)).model.version).toBe('1.0.0');
    await agent.close();
  });

  it('resolves at once when a verified model is on disk, and close() emits no model change', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agent-ready-'));
    const first = await freshAgent(dir);
    await first.install(v1.bytes);
    await first.close();
    const agent = await freshAgent(dir);
    expect(await agent.ready({ timeoutMs: 1 })).toMatchObject({ version: '1.0.0' });
    const changes: unknown[] = [];
    agent.on('model', (m) => changes.push(m));
    await agent.close();
    expect(changes).toEqual([]);
  });

  it('rejects with AGENT_READY_TIMEOUT after timeoutMs, and with AGENT_CLOSED when the agent closes first', async () => {
    const agent = await freshAgent();
    await expect(agent.ready({ timeoutMs: 20 })).rejects.toMatchObject({ code: 'AGENT_READY_TIMEOUT' });
    const pending = expect(agent.ready()).rejects.toMatchObject({ code: 'AGENT_CLOSED' });
    await agent.close();
    await pending;
    await expect(agent.ready()).rejects.toMatchObject({ code: 'AGENT_CLOSED' });
  });
});

// The update tests' common ground: the harness serving v1 and v2 of the classifier, and a device already on v1.
import { afterAll, beforeAll } from 'vitest';
import type { CreateAgentOptions } from '@flotilla/edge-agent';
import { HarnessServer } from './harness-server.ts';
import { makeBundle, type TestBundle } from './test-bundles.ts';
import { newDeviceId, startTestAgent, type TestAgent } from './agents.ts';
import { waitUntil } from './wait.ts';

/** Every state change of an update that goes through, as `path` writes it. */
export const HAPPY =
  'idle→downloading downloading→verifying verifying→staging staging→activating activating→probing probing→committing committing→idle';

/** A harness serving v1 and v2; v2 has the same first layer and a new head, so most chunks are shared. */
export async function harnessWithTwoVersions(): Promise<{ h: HarnessServer; v1: TestBundle; v2: TestBundle }> {
  const h = await HarnessServer.start();
  const v1 = await makeBundle({ version: '1.0.0', sequence: 1 });
  const v2 = await makeBundle({ version: '2.0.0', sequence: 2, model: { headSeed: 5 } });
  h.addBlobs(v1.blobs);
  h.addBlobs(v2.blobs);
  return { h, v1, v2 };
}

/** Starts {@link harnessWithTwoVersions} before the file's tests and closes it after; the fields are set once they run. */
export function twoVersionsSuite(): { h: HarnessServer; v1: TestBundle; v2: TestBundle } {
  const s = {} as { h: HarnessServer; v1: TestBundle; v2: TestBundle };
  beforeAll(async () => {
    Object.assign(s, await harnessWithTwoVersions());
  });
  afterAll(() => s.h?.close());
  return s;
}

/** A new device (id from `label`) whose agent has installed `v1` over MQTT and is idle. */
export async function deviceOnV1(
  h: HarnessServer,
  v1: TestBundle,
  label: string,
  o: Partial<CreateAgentOptions> = {},
): Promise<TestAgent & { id: string }> {
  const id = newDeviceId(label);
  h.addDevice(id);
  await h.setDesired(id, v1.ref);
  const t = await startTestAgent(h, id, o);
  await waitUntil(() => t.agent.model?.version === '1.0.0' && t.agent.state === 'idle', 'v1 installed');
  return { ...t, id };
}

// Starting in-process agents against the harness, each on its own temporary data folder.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAgent, type Agent, type CreateAgentOptions, type StateChange } from '@flotilla/edge-agent';
import type { HarnessServer } from './harness-server.ts';
import { TRUSTED_HEX } from './test-keys.ts';

/** A started agent with the state changes it reported to the app. */
export interface TestAgent {
  agent: Agent;
  dataDir: string;
  states: StateChange[];
}

let next = 0;

/** A fresh device id, unique in this process. */
export const newDeviceId = (label: string) => `${label}-${process.pid}-${next++}`;

/** Registers `deviceId` with the harness (unless known) and starts an agent for it over MQTT. */
export async function startTestAgent(h: HarnessServer, deviceId: string, o: Partial<CreateAgentOptions> = {}): Promise<TestAgent> {
  const d = h.devices.get(deviceId) ?? h.addDevice(deviceId);
  const dataDir = o.dataDir ?? mkdtempSync(join(tmpdir(), 'agent-it-'));
  const agent = await createAgent({
    deviceId,
    token: d.token,
    mqttUrl: h.mqttUrl,
    dataDir,
    trustedKeys: [TRUSTED_HEX],
    backoff: { minMs: 100, maxMs: 1000 },
    ...o,
  });
  const states: StateChange[] = [];
  agent.on('state', (s) => states.push(s));
  return { agent, dataDir, states };
}

/** `from→to` pairs of the reported status events, for comparing whole sequences. */
export const path = (states: readonly { from: string; to: string }[]) => states.map((s) => `${s.from}→${s.to}`).join(' ');

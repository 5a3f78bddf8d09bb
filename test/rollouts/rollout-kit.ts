// Shared by the end-to-end rollout tests: a trained digits model on a real server, bundles, rollouts and waits.
import { expect } from 'vitest';
import { runCli, type ServerHandle } from '../support/server-process.ts';
import { until } from '../delivery/fleet-kit.ts';

/** Fast verdicts: 2 s telemetry windows, a 500 ms rollout tick. */
export const E2E_ENV = { FLOTILLA_TELEMETRY_WINDOW_SEC: '2', FLOTILLA_ROLLOUT_TICK_MS: '500' };
/** Health gates that a 1-epoch model passes; the install failure gate stays at its default 5%. */
export const E2E_GATES = { minReporting: 0.5, maxErrorRate: null, maxConfidenceDrop: null, maxDriftScore: null };

export interface RolloutDeviceRow {
  deviceId: string;
  stage: number | null;
  state: string;
  notifiedAt: string | null;
}

/** API helpers over the server `srv()` names now (a test may restart it), creating rollouts for `target` by default. */
export function rolloutKit(srv: () => ServerHandle, target: Record<string, unknown>) {
  const status = async (id: string) => (await srv().api('GET', `/api/v1/rollouts/${id}`)).body;
  return {
    env: () => ({ FLOTILLA_TOKEN: srv().token }),
    status,
    events: async (id: string) => (await srv().api('GET', `/api/v1/rollouts/${id}/events`)).body,
    rolloutDevices: async (id: string): Promise<RolloutDeviceRow[]> =>
      (await srv().api('GET', `/api/v1/rollouts/${id}/devices`)).body.devices,
    waitState: (id: string, states: string[], ms = 60_000) =>
      until(
        () => status(id),
        (s) => states.includes(s.state),
        ms,
        `rollout ${id} in ${states}`,
      ),
    bundle: async (body: Record<string, unknown>): Promise<string> => {
      const r = await srv().api('POST', '/api/v1/bundles', body);
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      return r.body.id;
    },
    create: async (body: Record<string, unknown>): Promise<string> => {
      const r = await srv().api('POST', '/api/v1/rollouts', { target, ...body });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      return r.body.id as string;
    },
  };
}

/** Trains the `digits` model on MNIST (1 epoch unless `trainArgs` say more) and exports it; returns `digits@VERSION`. */
export async function trainDigits(srv: ServerHandle, o: { trainArgs?: string[]; quantize?: 'int8' | 'none' } = {}): Promise<string> {
  const env = { FLOTILLA_TOKEN: srv.token };
  const t = await runCli(
    ['train', '--dataset', 'mnist', '--model', 'digits', '--epochs', '1', ...(o.trainArgs ?? []), '--server', srv.url, '--json'],
    env,
  );
  expect(t.code, t.stderr).toBe(0);
  const x = await runCli(
    [
      'export',
      '--run',
      JSON.parse(t.stdout).runId,
      '--quantize',
      o.quantize ?? 'int8',
      '--override',
      'e2e test model',
      '--server',
      srv.url,
      '--json',
    ],
    env,
  );
  expect(x.code, x.stderr + x.stdout).toBe(0);
  return `digits@${JSON.parse(x.stdout).version}`;
}

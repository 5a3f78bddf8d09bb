// How many device status messages per second the rollout bookkeeping takes, on a SQLite store whose devices
// have been through many rollouts: what every `status` message of the soak's churning fleet runs
// (RolloutEngine.recordStatus: find the member row, its timeline for the sequence check, one change), measured
// without MQTT so only the engine and the store count. Twice: one message at a time (each awaited), and in
// bursts of 100 in flight, as a fleet's messages arrive (the engine group-commits what waits).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RolloutEngine } from '../rollouts/rollout-engine.ts';
import { pendingStage } from '../rollouts/rollout-step.ts';
import { parseRolloutRequest } from '../rollouts/rollout-spec.ts';
import type { Rollout } from '../rollouts/rollout-types.ts';
import { openSqliteStore } from '../store/sqlite/sqlite-store.ts';
import type { BenchOptions, BenchReport } from './bench-types.ts';
import { machineSummary } from './machine.ts';

const AT = '2026-03-01T00:00:00.000Z';

function rollout(id: string, i: number): Rollout {
  const spec = parseRolloutRequest({ model: 'm@1', target: { tags: ['soak'] }, stages: [{ percent: 100 }] });
  return {
    id,
    state: 'completed',
    model: 'digits',
    target: spec.target,
    stages: spec.stages,
    policy: spec.policy,
    bundle: {
      id: String(i % 2).repeat(64),
      model: 'digits',
      version: `${(i % 2) + 1}.0.0`,
      sequence: i + 1,
      manifestDigest: 'b'.repeat(64),
      bytes: 10,
    },
    current: 0,
    runtime: spec.stages.map(pendingStage),
    reason: 'bench',
    createdBy: 'bench',
    createdAt: new Date(Date.parse(AT) + i * 1000).toISOString(),
    updatedAt: AT,
  };
}

export async function run(opts: BenchOptions): Promise<BenchReport> {
  const devices = opts.quick ? 100 : 300;
  const rollouts = opts.quick ? 30 : 100;
  const statuses = opts.quick ? 2000 : 6000;
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-bench-status-'));
  const store = openSqliteStore(join(dir, 'flotilla.db'));
  try {
    // History: every device in every rollout, each row with the dozen timeline entries an update leaves.
    const timeline = (ro: string, d: string) =>
      Array.from({ length: 12 }, (_, k) => ({
        rolloutId: ro,
        deviceId: d,
        state: 'downloading' as const,
        entry: {
          at: AT,
          kind: 'status',
          state: 'downloading' as const,
          detail: { from: 'idle', to: 'downloading', seq: k, reason: 'progress 10%' },
        },
      }));
    for (let r = 0; r < rollouts; r++) {
      const id = `ro_${r}`;
      const last = r === rollouts - 1;
      await store.rollouts.write({
        rollout: { ...rollout(id, r), state: last ? 'running' : 'completed' },
        addDevices: Array.from({ length: devices }, (_, d) => ({
          device: {
            rolloutId: id,
            deviceId: `dev-${d}`,
            stage: 0,
            hash: d / devices,
            state: last ? 'notified' : 'updated',
            previousBundleId: null,
            notifiedAt: AT,
            updatedAt: AT,
          },
          entry: { at: AT, kind: 'planned', state: 'planned' },
        })),
        changes: last ? [] : Array.from({ length: devices }, (_, d) => timeline(id, `dev-${d}`)).flat(),
      });
    }
    opts.log?.(`${devices} devices × ${rollouts} rollouts written; timing ${statuses} status messages`);
    const current = `ro_${rollouts - 1}`;
    const bundleId = String((rollouts - 1) % 2).repeat(64);
    const engine = new RolloutEngine({
      store: store.rollouts,
      // recordStatus asks nothing of the fleet, delivery, monitoring or the registry.
      devices: { list: async () => [], get: async () => [] },
      desired: { setDesired: async () => undefined, setShadow: async () => undefined },
      health: { stageStats: async () => Promise.reject(new Error('bench: no health')) },
      bundles: { resolve: async () => null },
    });
    let seq = 0;
    const one = async (i: number) => {
      const deviceId = `dev-${i % devices}`;
      const r = await engine.recordStatus(deviceId, { bundleId, from: 'idle', to: 'downloading', event: 'progress', seq: 100 + seq++ });
      if (r?.rolloutId !== current) throw new Error(`bench: ${deviceId} is not in ${current}`);
    };
    const t0 = performance.now();
    for (let i = 0; i < statuses; i++) await one(i);
    const perSec = Math.round(statuses / ((performance.now() - t0) / 1000));
    const t1 = performance.now();
    for (let i = 0; i < statuses; i += 100) await Promise.all(Array.from({ length: Math.min(100, statuses - i) }, (_, k) => one(i + k)));
    const burstPerSec = Math.round(statuses / ((performance.now() - t1) / 1000));
    return {
      name: 'rollout-status',
      figures: { devices, rollouts, statuses, statusesPerSec: perSec, burstStatusesPerSec: burstPerSec },
      markdown: [
        '## Rollout status bookkeeping (SQLite)',
        '',
        `${machineSummary()}`,
        '',
        '| devices | past rollouts each | status messages | recorded / s, one at a time | recorded / s, 100 in flight |',
        '|---:|---:|---:|---:|---:|',
        `| ${devices} | ${rollouts} | ${statuses} | ${perSec} | ${burstPerSec} |`,
        '',
        "One status message = RolloutEngine.recordStatus: the device's row in the rollout that takes it, the row's",
        "timeline (the sequence check), one change written: what every status message of a fleet costs the server's",
        'event loop (better-sqlite3 is synchronous). In flight together, the messages that wait are written in one transaction.',
      ].join('\n'),
    };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

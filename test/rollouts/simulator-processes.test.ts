// The simulator's scale parts: its storage and shared-session adapters, and a fleet spread over worker processes.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OnnxNodeRuntime } from '@flotilla/edge-agent';
import { storageContract } from '@flotilla/edge-agent/testing';
import { startBenchServer, type BenchServer } from '../../server/src/bench/rollout-server.ts';
import { FleetSimulator } from '../../server/src/simulator/index.ts';
import { SharedSessionRuntime } from '../../server/src/simulator/sim-runtime.ts';
import { SimStorage } from '../../server/src/simulator/sim-storage.ts';
import { until } from '../delivery/fleet-kit.ts';
import { classifierModel } from '../agent/harness/test-models.ts';

const scratch = mkdtempSync(join(tmpdir(), 'sim-adapters-'));
let n = 0;
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

storageContract('SimStorage', () => SimStorage.open(join(scratch, `contract-${n++}`)));

describe('SimStorage', () => {
  it('writes through a temp file and rename, leaving no temp behind, and reopens what it wrote', async () => {
    const root = join(scratch, 'device');
    const s = await SimStorage.open(root);
    await s.write('slots/a/files/model.onnx', new Uint8Array([1, 2, 3]));
    await s.write('slots/a/files/model.onnx', new Uint8Array([4]));
    expect(readdirSync(join(root, 'slots/a/files'))).toEqual(['model.onnx']);
    expect(await (await SimStorage.open(root)).read('slots/a/files/model.onnx')).toEqual(new Uint8Array([4]));
  });
});

describe('SharedSessionRuntime', () => {
  it('gives every device that loads the same model one shared session, released with its last user', async () => {
    const rt = new SharedSessionRuntime(new OnnxNodeRuntime());
    const v1 = classifierModel({ headSeed: 2 });
    const v2 = classifierModel({ headSeed: 3 });
    const a = await rt.load(v1);
    const b = await rt.load(Uint8Array.from(v1)); // equal bytes, another array: the same model
    const c = await rt.load(v2);
    expect(rt.distinctSessions).toBe(2);
    const x = { x: { data: new Float32Array(16).fill(0.5), dims: [1, 16] } };
    const [ya, yb, yc] = await Promise.all([a.run(x), b.run(x), c.run(x)]);
    expect(ya.y!.data).toEqual(yb.y!.data);
    expect(ya.y!.data).not.toEqual(yc.y!.data);
    await a.release();
    await a.release(); // a second release of one handle does not take the other's session away
    expect((await b.run(x)).y!.data).toEqual(ya.y!.data);
    await b.release();
    await c.release();
    expect(rt.distinctSessions).toBe(0);
  });
});

describe('FleetSimulator with worker processes', () => {
  let srv: BenchServer;
  beforeAll(async () => {
    srv = await startBenchServer({ FLOTILLA_ROLLOUT_TICK_MS: '200' });
  }, 60_000);
  afterAll(async () => srv?.close());

  it('runs the fleet in two workers, mirrors their states, and ends them on close', async () => {
    const version = await srv.registerOnnx('sim-proc', classifierModel());
    const bundle = await srv.api('POST', '/api/v1/bundles', { model: `sim-proc@${version}`, version: '2.0.0' });
    const sim = await FleetSimulator.start({
      server: srv.url,
      token: srv.token,
      mqttUrl: srv.mqttUrl,
      devices: 6,
      tags: ['proc'],
      rate: 2,
      processes: 2,
      telemetryWindowSec: 2,
    });
    const pids = sim.workerPids;
    try {
      expect(pids).toHaveLength(2);
      expect(sim.devices).toEqual([]); // nothing runs in this process
      expect(sim.size).toBe(6);
      expect(() => sim.setTransform('car', (row) => row)).toThrow(/by name/);
      expect(() => sim.setTransform('car', 'no-such-weather')).toThrow(/unknown input transform/);
      sim.setTransform('phone', 'snow');
      await until(
        () => sim.state(),
        (s) => s.every((d) => d.online),
        20_000,
        'every device online',
      );
      await srv.api('POST', '/api/v1/rollouts', {
        bundle: bundle.id,
        target: { tags: ['proc'] },
        stages: [
          {
            percent: 100,
            bakeSec: 0,
            gates: { minReporting: 0, maxErrorRate: null, maxConfidenceDrop: null, maxDriftScore: null, maxFailureRate: 1 },
          },
        ],
      });
      await until(
        () => sim.versions(),
        (v) => v['2.0.0'] === 6,
        60_000,
        'every device on 2.0.0',
      );
      // MNIST rows (784 values) do not fit this 16-input model: every call fails, and is counted as it should be.
      await until(
        () => sim.cohorts(),
        (c) => Object.values(c).every((x) => x.errors > 0),
        20_000,
        'traffic counted in every cohort',
      );
      expect(Object.values(sim.cohorts()).reduce((s, c) => s + c.devices, 0)).toBe(6);
      expect(new Set(sim.state().map((d) => d.id)).size).toBe(6);
    } finally {
      await sim.close();
    }
    for (const pid of pids) expect(existsSync(`/proc/${pid}`), `worker ${pid} still running`).toBe(false);
    expect(existsSync(sim.dataDir)).toBe(false);
  }, 120_000);
});

// Gates judge on evidence (issue 19): a 1-device rollout with one malformed request and a few predictions
// waits for enough calls instead of failing on a "25% error rate", and completes once they arrive; a model
// that really errors still pauses its rollout. Real SQLite stores, the real monitoring service and the
// server's own health adapter; the fleet and delivery are the engine's in-memory port doubles.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { TelemetryWindow } from '@flotilla/firmware-bundler/wire';
import { MonitoringService } from '../../server/src/monitoring/monitoring-service.ts';
import { healthPort } from '../../server/src/wiring/rollout-adapters.ts';
import { openSqliteTelemetry } from '../support/telemetry-store.ts';
import { FakeClock, rig, scratch, T0 } from '../support/rollout-test-kit.ts';

const tmp = scratch();
const dir = mkdtempSync(join(tmpdir(), 'flotilla-evidence-'));
afterAll(() => {
  tmp.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

// FakeBundles resolves `digits@2` to version 1.0.2, sequence 2.
const MODEL = { name: 'digits', version: '1.0.2', sequence: 2 };
const LIGHT = { name: 'light', edges: [0, 1, 2, 3], frequencies: [0.2, 0.3, 0.5] };
const CONF = { edges: [0, 0.5, 1], frequencies: [0.1, 0.9] };

/** A window of `ok` answered calls shaped like the reference, `errors` failed calls and `client` refused ones. */
function window(seq: number, at: number, ok: number, errors = 0, client = 0): TelemetryWindow {
  const split = (n: number, f: number[]) => {
    const c = f.map((x) => Math.floor(n * x));
    c[c.length - 1]! += n - c.reduce((a, b) => a + b, 0);
    return c;
  };
  return {
    v: 1,
    seq,
    start: new Date(at - 10_000).toISOString(),
    end: new Date(at).toISOString(),
    model: MODEL,
    requests: ok + errors,
    errors,
    clientErrors: client,
    latencyMs: { p50: 2, p95: 4, p99: 5, hist: { edges: [0, 5, 10], counts: [ok + errors, 0] } },
    predictions: split(ok, [0.5, 0.5]),
    confidence: { edges: CONF.edges, counts: split(ok, CONF.frequencies) },
    features: { light: split(ok, LIGHT.frequencies) },
    feedback: { labelled: 0, correct: 0 },
    shadow: null,
    dropped: 0,
  };
}

async function setup(name: string) {
  const clock = new FakeClock();
  const telemetry = openSqliteTelemetry(join(dir, `${name}.db`));
  const monitoring = await MonitoringService.open({ store: telemetry.store, now: () => clock.t });
  await monitoring.setReference('digits@1.0.2', { features: [LIGHT] }, undefined, { confidence: CONF });
  const r = rig(tmp.open(name), { clock }, { health: healthPort(monitoring) });
  const [device] = r.fleet.add(1);
  const { id } = await r.engine.create(
    { model: 'digits@2', target: { tags: ['car'] }, stages: [{ percent: 100, bakeSec: 60, timeoutSec: 600 }] },
    'tok_op',
  );
  let seq = 0;
  return {
    ...r,
    id,
    /** Ingests one window sent at `sec` and ticks the engine there. */
    send: async (sec: number, ok: number, errors = 0, client = 0) => {
      clock.t = T0 + sec * 1000;
      const res = await monitoring.ingest([{ deviceId: device!, cohorts: ['car'], window: window(++seq, clock.t, ok, errors, client) }]);
      expect(res.accepted).toBe(1);
      await r.engine.tick();
      return r.engine.statusOf(id);
    },
    tickAt: async (sec: number) => {
      clock.t = T0 + sec * 1000;
      await r.engine.tick();
      return r.engine.statusOf(id);
    },
    close: async () => {
      await monitoring.close();
      telemetry.close();
    },
  };
}

describe('gates judge on evidence', () => {
  it('a 1-device rollout with one malformed request and 3 predictions waits ("3 of 50 requests"), then completes on enough calls', async () => {
    const s = await setup('few');
    await s.send(30, 3, 0, 1);
    const waiting = await s.tickAt(61);
    expect(waiting.state).toBe('running');
    const v = waiting.stages[0]!.verdict!;
    expect([v.state, v.pass, v.failures]).toEqual(['waiting', false, []]);
    expect(v.stats).toMatchObject({ devices: 1, reporting: 1, requests: 3, errors: 0, clientErrors: 1, errorRate: 0, driftSamples: 3 });
    expect(v.waiting).toEqual([
      { gate: 'maxErrorRate', have: 3, need: 50, unit: 'requests' },
      { gate: 'maxConfidenceDrop', have: 3, need: 50, unit: 'requests' },
      { gate: 'maxDriftScore', have: 3, need: 200, unit: 'drift samples' },
    ]);
    // 60 calls: error rate and confidence have their evidence, drift (63 rows) does not yet.
    const partly = await s.send(120, 60);
    expect([partly.state, partly.stages[0]!.verdict!.waiting]).toEqual([
      'running',
      [{ gate: 'maxDriftScore', have: 63, need: 200, unit: 'drift samples' }],
    ]);
    const done = await s.send(180, 200);
    expect(done.state).toBe('completed');
    expect(done.stages[0]!.verdict).toMatchObject({ state: 'pass', stats: { requests: 263, errors: 0, clientErrors: 1, errorRate: 0 } });
    expect((await s.engine.events(s.id)).map((e) => e.kind)).toEqual(['created', 'start', 'finish']);
    await s.close();
  });

  it('a model that really errors pauses the rollout once its errors outweigh any outcome of the minimum evidence', async () => {
    const s = await setup('errors');
    const paused = await s.send(70, 2, 10);
    expect(paused.state).toBe('paused');
    expect(paused.stages[0]!.verdict).toMatchObject({ state: 'fail', failures: [{ gate: 'maxErrorRate', value: 10 / 12, limit: 0.02 }] });
    const ev = (await s.engine.events(s.id)).at(-1)!;
    expect([ev.kind, ev.reason]).toEqual(['gate_failed', 'maxErrorRate 0.8333 > 0.02']);
    await s.close();
  });

  it('a model with a steady error rate above the limit pauses once the minimum evidence is in', async () => {
    const s = await setup('steady');
    // 1 error in 30 calls: below the minimum, and not yet certain (1/50 = 2% is within the limit).
    expect((await s.send(70, 29, 1)).state).toBe('running');
    const paused = await s.send(90, 27, 3);
    expect(paused.state).toBe('paused');
    expect(paused.stages[0]!.verdict!.failures).toEqual([{ gate: 'maxErrorRate', value: 4 / 60, limit: 0.02 }]);
    await s.close();
  });

  it('a stage that never gets its evidence pauses as "insufficient evidence" at its timeout, and resume waits again', async () => {
    const s = await setup('timeout');
    await s.send(30, 3, 0, 1);
    expect((await s.tickAt(659)).state).toBe('running');
    const paused = await s.tickAt(660);
    expect(paused.state).toBe('paused');
    const ev = (await s.engine.events(s.id)).at(-1)!;
    expect(ev.kind).toBe('insufficient_evidence');
    expect(ev.reason).toMatch(/^insufficient evidence 600s after the bake: 3 of 50 requests for maxErrorRate/);
    const resumed = await s.engine.act(s.id, 'resume', 'tok_op', 'traffic starts now');
    expect(resumed.state).toBe('running');
    expect((await s.send(700, 300)).state).toBe('completed');
    await s.close();
  });
});

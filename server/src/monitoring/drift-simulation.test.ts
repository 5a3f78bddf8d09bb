// The must-show statistics, end to end through the service and a real SQLite file: no alert over
// 100 windows of in-distribution traffic with default settings; an injected shift alerted within 3 windows.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteTelemetry } from '@flotilla/test/support/telemetry-store';
import type { Alert } from './alert.ts';
import type { ModelReference } from './model-reference.ts';
import { MonitoringService } from './monitoring-service.ts';
import { seededRandom } from '../random/seeded-random.ts';
import { simulatedReference, simulateWindow } from './telemetry-sim.ts';

const dir = mkdtempSync(join(tmpdir(), 'flotilla-drift-sim-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const COHORTS = ['north', 'south', 'east'];
const DEVICES_PER_COHORT = 4;
const T0 = Date.parse('2026-03-01T00:00:00Z');
const SNOW = { features: ['f1', 'f4', 'f7'], fraction: 0.3 };

/** A fleet of 3 cohorts × 4 devices; every device sends one 1-minute window of 50-250 requests a round. */
async function fleet(seed: number, outputsInReference: boolean) {
  const rng = seededRandom(seed);
  const sim = simulatedReference(rng);
  const telemetry = openSqliteTelemetry(join(dir, `sim-${seed}-${outputsInReference}.db`));
  const service = await MonitoringService.open({ store: telemetry.store, now: () => T0 + 200 * 60_000 });
  const extra: Pick<ModelReference, 'predictions' | 'confidence'> = outputsInReference
    ? { predictions: sim.predictions, confidence: sim.confidence }
    : {};
  await service.setReference('cam@1.0.0', { features: sim.features }, sim.labels, extra);
  const raised: { round: number; alert: Alert }[] = [];
  let seq = 0;
  const round = async (r: number, shiftCohort?: string) => {
    const batch = COHORTS.flatMap((cohort) =>
      Array.from({ length: DEVICES_PER_COHORT }, (_, d) => ({
        deviceId: `${cohort}-${d}`,
        cohorts: [cohort],
        window: simulateWindow(rng, sim, {
          seq: seq++,
          start: new Date(T0 + r * 60_000),
          requests: 50 + Math.floor(rng() * 200),
          shift: cohort === shiftCohort ? SNOW : undefined,
        }),
      })),
    );
    const res = await service.ingest(batch);
    expect(res.accepted).toBe(batch.length);
    for (const alert of res.alertsRaised) raised.push({ round: r, alert });
  };
  return {
    service,
    raised,
    round,
    close: async () => {
      await service.close();
      telemetry.close();
    },
  };
}

describe('drift must-show', () => {
  it.each([
    ['outputs compared with the reference', 1, true],
    ['outputs compared with learned baselines', 2, false],
  ])('no alert over 100 windows of in-distribution traffic, defaults (%s)', async (_label, seed, outputs) => {
    const f = await fleet(seed, outputs);
    for (let r = 0; r < 100; r++) await f.round(r);
    expect(f.raised).toEqual([]);
    expect(await f.service.alerts()).toEqual([]);
    // Not vacuous: every cohort's 10 features and both output streams were tested window after window.
    const status = f.service.drift();
    expect(status).toHaveLength(COHORTS.length * 12);
    for (const s of status) expect(s.windowsTested).toBeGreaterThanOrEqual(outputs || !s.stream.startsWith('@') ? 150 : 140);
    await f.close();
  });

  it('snow on one cohort is alerted within 3 windows, for that cohort and the shifted features only', async () => {
    const f = await fleet(3, false);
    for (let r = 0; r < 30; r++) await f.round(r);
    expect(f.raised).toEqual([]);
    for (let r = 30; r < 40; r++) await f.round(r, 'north');
    expect(f.raised).toHaveLength(1);
    const [{ round, alert }] = f.raised as [{ round: number; alert: Alert }];
    expect(round - 30 + 1).toBeLessThanOrEqual(3);
    expect(alert).toMatchObject({ cohort: 'north', model: 'cam@1.0.0', severity: 'critical', state: 'open' });
    expect(alert.windows).toBeLessThanOrEqual(3);
    // Since when: the first breaching detection window, which may have pooled the last clean minute too.
    expect(Date.parse(alert.since)).toBeGreaterThanOrEqual(T0 + 29 * 60_000);
    expect(Date.parse(alert.since)).toBeLessThanOrEqual(T0 + 30 * 60_000);
    const open = (await f.service.alerts({ state: 'open' }))[0]!;
    expect(
      open.features
        .filter((x) => x.active)
        .map((x) => x.name)
        .sort(),
    ).toEqual(SNOW.features);
    for (const x of open.features) expect(x.psi).toBeGreaterThan(0.25);

    // The snow melts: the alert resolves after the clean windows that hysteresis asks for.
    for (let r = 40; r < 46; r++) await f.round(r);
    const [resolved] = await f.service.alerts();
    expect(resolved).toMatchObject({ id: alert.id, state: 'resolved', resolvedBy: 'detector' });
    expect(f.raised).toHaveLength(1);
    await f.close();
  });
});

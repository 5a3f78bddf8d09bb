// The cohort-reference tests' simulated fleet: each cohort's camera rows (snow on the cars) and rounds of
// windows binned on a reference's edges, judged by the real monitoring service on SQLite.
import { join } from 'node:path';
import { expect } from 'vitest';
import { histogram } from '@flotilla/firmware-bundler';
import type { ModelReference } from '../../server/src/monitoring/model-reference.ts';
import { MonitoringService } from '../../server/src/monitoring/monitoring-service.ts';
import { simulateWindow } from '../../server/src/monitoring/telemetry-sim.ts';
import { seededRandom } from '../../server/src/random/seeded-random.ts';
import { openSqliteTelemetry } from '../support/telemetry-store.ts';

export const COHORTS = ['car', 'phone', 'sensor'];
export const T0 = Date.parse('2026-03-01T00:00:00Z');
export const MODEL = { name: 'cam', version: '2.0.0', sequence: 2 };

/** One input row as each cohort's camera sends it: snow brightens and flattens the cars' images. */
export function draw(rng: () => number, snowy: boolean): number[] {
  const normal = () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  return snowy ? [1.6 + 0.5 * normal(), 0.4 + 0.3 * normal(), rng()] : [normal(), 1 + 0.5 * normal(), rng()];
}

/** A monitoring service on its own telemetry file in `dir`, judging v2 against `reference`, and rounds to feed it. */
export async function cohortFleet(dir: string, name: string, reference: ModelReference, seed: number) {
  const rng = seededRandom(seed);
  const telemetry = openSqliteTelemetry(join(dir, `${name}.db`));
  const service = await MonitoringService.open({ store: telemetry.store, now: () => T0 + 200 * 60_000 });
  await service.setReference(
    'cam@2.0.0',
    { features: reference.features },
    undefined,
    reference.cohorts ? { cohorts: reference.cohorts } : {},
  );
  let seq = 0;
  /** One round: 3 devices per cohort, each one window of 50-250 requests drawn from what its cohort really sends. */
  const round = async (r: number) => {
    const batch = COHORTS.flatMap((cohort) =>
      Array.from({ length: 3 }, (_, d) => {
        const n = 50 + Math.floor(rng() * 200);
        const inputs = Array.from({ length: n }, () => draw(rng, cohort === 'car'));
        const features = Object.fromEntries(
          reference.features.map((f, i) => [
            f.name,
            histogram(
              { edges: f.edges },
              inputs.map((row) => row[i]!),
            ),
          ]),
        );
        return {
          deviceId: `${cohort}-${d}`,
          cohorts: [cohort],
          window: {
            ...simulateWindow(rng, { features: [] }, { seq: seq++, start: new Date(T0 + r * 60_000), requests: n, model: MODEL }),
            features,
          },
        };
      }),
    );
    expect((await service.ingest(batch)).accepted).toBe(batch.length);
  };
  return {
    service,
    round,
    close: async () => {
      await service.close();
      telemetry.close();
    },
  };
}

/** 100 rounds of in-distribution windows raise no alert, and (not vacuous) every cohort's features were tested in each. */
export async function expectNoAlertIn100Rounds(f: Awaited<ReturnType<typeof cohortFleet>>): Promise<void> {
  for (let r = 0; r < 100; r++) await f.round(r);
  expect(await f.service.alerts()).toEqual([]);
  const features = f.service.drift().filter((s) => !s.stream.startsWith('@'));
  expect(new Set(features.map((s) => s.cohort))).toEqual(new Set(COHORTS));
  for (const s of features) expect(s.windowsTested).toBeGreaterThanOrEqual(100);
}

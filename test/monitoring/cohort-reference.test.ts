// Issue 17 part 4: after a retrain that only the cars needed (their snowy field rows joined the clean
// training rows), the new version's reference says what each cohort should look like, so 100 further
// in-distribution windows from every cohort raise no alert: cars are judged on snowy data, phones and
// sensors on the clean data they always sent. The reference is computed by the bundle code from real rows,
// travels as the manifest extension, and the real monitoring service judges windows binned from fresh draws.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Dataset } from '../../server/src/datasets/dataset-types.ts';
import { fieldReference, MIN_COHORT_ROWS } from '../../server/src/delivery/field-reference.ts';
import { referenceProfile } from '../../server/src/monitoring/reference-from-rows.ts';
import {
  COHORT_PROFILES_EXTENSION,
  referenceForCohort,
  referenceFromManifest,
  validateReference,
  type ModelReference,
} from '../../server/src/monitoring/model-reference.ts';
import type { FieldProvenance } from '../../server/src/retraining/field-dataset.ts';
import { seededRandom } from '../../server/src/random/seeded-random.ts';
import { cohortFleet, COHORTS, draw, expectNoAlertIn100Rounds, MODEL } from './cohort-fleet.ts';

const dir = mkdtempSync(join(tmpdir(), 'flotilla-cohort-ref-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const NAMES = ['brightness', 'contrast', 'noise'];
/** The retrain's dataset: 3000 clean parent rows, then 1000 snowy field rows from the cars. */
function fieldDataset(rng: () => number): { data: Dataset; prov: FieldProvenance } {
  const rows = [...Array.from({ length: 3000 }, () => draw(rng, false)), ...Array.from({ length: 1000 }, () => draw(rng, true))];
  const data: Dataset = {
    x: Float32Array.from(rows.flat()),
    y: new Int32Array(rows.length),
    n: rows.length,
    featureShape: [3],
    numClasses: 2,
  };
  return { data, prov: { kind: 'field', parentRows: 3000, groups: [{ cohorts: ['car'], start: 3000, count: 1000 }] } };
}

const fleet = (name: string, reference: ModelReference, seed: number) => cohortFleet(dir, name, reference, seed);

describe("per-cohort reference of a model retrained on the cars' field data", () => {
  const rng = seededRandom(17);
  const { data, prov } = fieldDataset(rng);
  const train = Int32Array.from({ length: data.n }, (_, i) => i);

  it('profiles the cars on their snowy rows and every other cohort on the clean rows', () => {
    const ref = fieldReference(data, NAMES, train, prov);
    expect(Object.keys(ref.cohorts)).toEqual(['car']);
    const b = ref.features[0]!;
    // Snow brightens: the cars' profile puts its mass in the upper bins, the clean default in the lower ones.
    const upper = (f: number[]) => f.slice(Math.floor(f.length / 2)).reduce((a, x) => a + x, 0);
    expect(upper(ref.cohorts.car!.features[0]!.frequencies)).toBeGreaterThan(0.9);
    expect(upper(b.frequencies)).toBeLessThan(0.4);
    expect(b.count).toBe(3000);
    expect(ref.cohorts.car!.features[0]!.count).toBe(1000);
    // Through the manifest and back: what the server registers for the bundle.
    const { reference } = referenceFromManifest({
      model: { ...MODEL, file: 'model.onnx' },
      referenceProfile: { features: ref.features },
      extensions: { [COHORT_PROFILES_EXTENSION]: ref.cohorts as never },
    });
    expect(referenceForCohort(reference, 'car').features[0]!.frequencies).toEqual(ref.cohorts.car!.features[0]!.frequencies);
    expect(referenceForCohort(reference, 'phone').features[0]!.frequencies).toEqual(b.frequencies);
  });

  it('profiles a cohort on its rows since the drift began when there are enough of them, on all of them otherwise', () => {
    // The cars' 1000 field rows: 600 from before the snow (clean), then the 400 newest snowy ones.
    const mixed: Dataset = { ...data, x: data.x.slice() };
    const cleanRng = seededRandom(5);
    for (let r = 3000; r < 3600; r++) mixed.x.set(draw(cleanRng, false), r * 3);
    const upper = (f: number[]) => f.slice(Math.floor(f.length / 2)).reduce((a, x) => a + x, 0);
    const carUpper = (recent?: number) =>
      upper(
        fieldReference(mixed, NAMES, train, { ...prov, groups: [{ ...prov.groups[0]!, ...(recent === undefined ? {} : { recent }) }] })
          .cohorts.car!.features[0]!.frequencies,
      );
    expect(carUpper(400)).toBeGreaterThan(0.9);
    expect(carUpper()).toBeLessThan(0.7);
    // The drift's start pooled the last clean rows too (480 "recent" rows, 80 of them clean): the newer half is clear of them.
    expect(carUpper(480)).toBeGreaterThan(0.9);
    expect(carUpper(480)).toBeCloseTo(carUpper(400), 1);
    // Too few rows since the drift for a profile: all of the cohort's rows, as without the count.
    expect(carUpper(MIN_COHORT_ROWS - 1)).toBe(carUpper());
  });

  it(`gives no cohort of fewer than ${MIN_COHORT_ROWS} field rows a profile of its own`, () => {
    const few: FieldProvenance = {
      ...prov,
      groups: [
        { cohorts: ['car'], start: 3000, count: MIN_COHORT_ROWS - 1 },
        { cohorts: ['bus'], start: 3000 + MIN_COHORT_ROWS, count: MIN_COHORT_ROWS },
      ],
    };
    expect(Object.keys(fieldReference(data, NAMES, train, few).cohorts)).toEqual(['bus']);
  });

  it('refuses cohort profiles that do not fit the reference', () => {
    const ref = fieldReference(data, NAMES, train, prov);
    const bad = (cohorts: unknown) => () => validateReference({ features: ref.features, cohorts: cohorts as never });
    expect(bad({ car: { features: [{ name: 'speed', frequencies: [1] }] } })).toThrow(/feature 'speed' is not in the reference/);
    expect(bad({ car: { features: [{ name: 'brightness', frequencies: [1] }] } })).toThrow(/1 frequencies for \d+ bins/);
    expect(bad({ car: { features: [{ name: 'brightness', frequencies: ref.features[0]!.frequencies.map(() => 1) }] } })).toThrow(/sum to/);
    expect(bad({ '': { features: [] } })).toThrow(/1 to 128 characters/);
  });

  it('100 in-distribution windows from every cohort after the cars-only retrain raise no alert', async () => {
    const ref = fieldReference(data, NAMES, train, prov);
    const f = await fleet('per-cohort', { features: ref.features, cohorts: ref.cohorts }, 1);
    await expectNoAlertIn100Rounds(f);
    await f.close();
  }, 60_000);

  it('the same traffic against one profile of all training rows (the old way) alerts on the cohorts that never saw snow', async () => {
    const mixed = referenceProfile({ ...data }, NAMES);
    const f = await fleet('mixed', { features: mixed }, 1);
    for (let r = 0; r < 20; r++) await f.round(r);
    const open = await f.service.alerts({ state: 'open' });
    expect(new Set(open.map((a) => a.cohort))).toEqual(new Set(COHORTS));
    await f.close();
  }, 60_000);
});

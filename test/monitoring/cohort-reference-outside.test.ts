// Issue 17, bring your own model: a challenger made by an outside trainer gets per-cohort references exactly
// like a native retrain's. The retraining service runs a real (tiny) command trainer on a field dataset built
// from the cars' snowy samples only, imports its ONNX model with evidence, and the real bundle-extras code
// profiles each cohort from that dataset version's provenance (cohorts without field rows on the imported
// champion's reference rows); the real monitoring service then judges 100
// rounds of in-distribution windows from every cohort against v2 and raises nothing, while the single profile
// of the import evidence (the old way: field rows as the reference set) alerts on phones and sensors.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConversionService } from '../../server/src/conversion/conversion-service.ts';
import { encodeNpy } from '../../server/src/convert/npy-write.ts';
import { encodeDataset } from '../../server/src/datasets/canonical-format.ts';
import { bundleExtras } from '../../server/src/delivery/bundle-extras.ts';
import { createLogger } from '../../server/src/log/logger.ts';
import { COHORT_PROFILES_EXTENSION, referenceFromManifest, type ModelReference } from '../../server/src/monitoring/model-reference.ts';
import { seededRandom } from '../../server/src/random/seeded-random.ts';
import type { FieldSample } from '../../server/src/retraining/field-sample-store.ts';
import { RetrainingService, type RetrainJob } from '../../server/src/retraining/retraining-service.ts';
import type { ModelVersion } from '../../server/src/store/entities.ts';
import { classifier, openWorld, WEIGHTS } from '../support/retraining-test-kit.ts';
import { cohortFleet, draw, expectNoAlertIn100Rounds, MODEL, T0 } from './cohort-fleet.ts';

let world: Awaited<ReturnType<typeof openWorld>>;
let job: RetrainJob;
let v2: ModelVersion;
let conversion: ConversionService;
const scratch = mkdtempSync(join(tmpdir(), 'flotilla-cohort-outside-'));

beforeAll(async () => {
  world = await openWorld();
  const rng = seededRandom(17);
  // The parent dataset: 3000 clean rows, what every cohort sent before the snow.
  const rows = Array.from({ length: 3000 }, () => draw(rng, false));
  const data = {
    x: Float32Array.from(rows.flat()),
    y: Int32Array.from(rows, (_, i) => i % 2),
    n: rows.length,
    featureShape: [3],
    numClasses: 2,
  };
  const meta = {
    featureNames: ['brightness', 'contrast', 'noise'],
    featureShape: [3],
    classes: ['clear', 'snowy'],
    rows: data.n,
    dtype: 'float32' as const,
  };
  const blob = await world.blobs.put(encodeDataset(meta, data));
  await world.store.datasets.put({
    digest: blob.digest,
    name: 'cam-clean',
    bytes: blob.bytes,
    rows: data.n,
    featureShape: [3],
    featureNames: meta.featureNames,
    classes: meta.classes,
    report: null,
    parents: [],
    source: 'test',
    createdAt: new Date().toISOString(),
  });
  // The champion, imported with 2000 clean rows as its reference set: what its fleet sent.
  conversion = new ConversionService(world.store, world.blobs);
  const ref = Float32Array.from(Array.from({ length: 2000 }, () => draw(rng, false)).flat());
  await conversion.importOnnx(classifier(WEIGHTS.champion), 'cam', 'champion', 'op', {
    reference: encodeNpy(ref, [2000, 3]),
    labels: new TextEncoder().encode('["clear","snowy"]'),
  });
  await world.store.models.moveAlias({ model: 'cam', alias: 'champion', toVersion: 1, actor: 'test', reason: 'setup' });
  // Only the cars sent labelled samples, all snowy: 1250, of which the newest 250 are held out.
  const samples: FieldSample[] = Array.from({ length: 1250 }, (_, i) => ({
    deviceId: `car-${i % 5}`,
    predictionId: `p${i}`,
    cohorts: ['car'],
    model: 'cam',
    input: new Uint8Array(Float32Array.from(draw(rng, true)).buffer),
    shape: [3],
    prediction: 0,
    confidence: 0.9,
    label: 1,
    source: 'app',
    at: new Date(T0 - 3_600_000 + i * 1000).toISOString(),
  }));
  await world.samples.insertMany(samples);
  const rt = new RetrainingService({
    store: world.store,
    blobs: world.blobs,
    samples: world.samples,
    log: createLogger('silent'),
    retrainingStore: world.retraining,
    conversion: Object.assign(conversion, {
      exportVersion: async () => {
        throw new Error('an outside trainer never exports through tfjs');
      },
    }),
    runs: {
      start: async () => {
        throw new Error('no native runs here');
      },
      wait: async () => {
        throw new Error('no native runs here');
      },
    },
  });
  // A trainer that "retrains" by handing back the champion it was given: the reference is what is under test.
  rt.setPolicy('cam', {
    trigger: {},
    data: { parent: 'cam-clean', cohorts: ['car'], holdoutFraction: 0.2 },
    trainer: {
      kind: 'command',
      command: ['/bin/sh', '-c', 'cp "$(dirname "$FLOTILLA_TRAINER_MANIFEST")/champion.onnx" "$FLOTILLA_TRAINER_OUTPUT"'],
      timeoutSec: 60,
      quantize: 'none',
    },
  });
  job = await rt.retrain('cam', 'op');
  v2 = (await world.store.models.resolve('cam@2'))!;
}, 60_000);
afterAll(async () => {
  await world.close();
  rmSync(scratch, { recursive: true, force: true });
});

const fleet = (name: string, reference: ModelReference, seed: number) => cohortFleet(scratch, name, reference, seed);

describe("per-cohort reference of a challenger made by an outside trainer on the cars' field data", () => {
  it("registers the trainer's model, trained on the cars' rows only", () => {
    expect(job.error).toBeNull();
    expect(job).toMatchObject({ champion: 'cam@1', challenger: 'cam@2', dataset: { fieldRows: 1000, holdoutRows: 250 } });
    expect(v2.tags).toEqual(['trained-outside']);
  });

  it("bundles it with the cars profiled on their snowy rows and every other cohort on the champion's import reference rows", async () => {
    const extras = await bundleExtras(world.store, world.blobs, v2, 'model.onnx');
    const cohorts = extras.extensions?.[COHORT_PROFILES_EXTENSION] as unknown as Record<
      string,
      { features: { frequencies: number[]; count: number }[] }
    >;
    expect(Object.keys(cohorts)).toEqual(['car']);
    const upper = (f: number[]) => f.slice(Math.floor(f.length / 2)).reduce((a, x) => a + x, 0);
    const brightness = extras.referenceProfile!.features[0]!;
    expect(brightness.name).toBe('f0');
    expect(upper(cohorts.car!.features[0]!.frequencies)).toBeGreaterThan(0.9);
    expect(upper(brightness.frequencies)).toBeLessThan(0.4);
    // The default is the imported champion's 2000 reference rows; the cars' profile their 1000 field rows.
    expect(brightness.count).toBe(2000);
    expect(cohorts.car!.features[0]!.count).toBe(1000);
    // An operator's import (no field dataset behind it) keeps its evidence's single profile.
    const v1 = (await world.store.models.resolve('cam@1'))!;
    const champion = await bundleExtras(world.store, world.blobs, v1, 'model.onnx');
    expect(champion.extensions).toBeUndefined();
    expect(champion.referenceProfile!.features).toEqual((await conversion.evidence(v1))!.reference.features);
  });

  it('100 in-distribution windows from every cohort raise no alert on v2', async () => {
    const extras = await bundleExtras(world.store, world.blobs, v2, 'model.onnx');
    // What the server registers when the bundle is created (main.ts onBundle).
    const { reference } = referenceFromManifest({
      model: { ...MODEL, file: 'model.onnx' },
      labels: extras.labels,
      referenceProfile: extras.referenceProfile,
      extensions: extras.extensions,
    });
    expect(Object.keys(reference.cohorts ?? {})).toEqual(['car']);
    const f = await fleet('per-cohort', reference, 1);
    await expectNoAlertIn100Rounds(f);
    await f.close();
  }, 60_000);

  it("the same traffic against the import evidence's single profile of the field rows (the old way) alerts on the cohorts that never saw snow", async () => {
    const ev = (await conversion.evidence(v2))!;
    const f = await fleet('single', { features: ev.reference.features }, 1);
    for (let r = 0; r < 20; r++) await f.round(r);
    const open = await f.service.alerts({ state: 'open' });
    expect(open.map((a) => a.cohort)).toEqual(expect.arrayContaining(['phone', 'sensor']));
    await f.close();
  }, 60_000);
});

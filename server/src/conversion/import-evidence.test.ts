// Import with evidence on a real store, blobs and onnxruntime: a good reference set gives the version a profile,
// output histograms, calibration, labels and lineage; every malformed upload (shape, dtype,
// row count, labels, held-out rows, lineage) is refused with its own code and a message naming expected vs got,
// and registers nothing.
import { describe, expect, it } from 'vitest';
import { encodeNpy } from '../convert/npy-write.ts';
import { readNpy } from '../convert/npy.ts';
import type { ImportEvidenceInput } from './import-evidence.ts';
import { TWO_CLASS_MODEL, useConversionWorld } from '@flotilla/test/support/import-kit';

const kit = useConversionWorld();

const model = TWO_CLASS_MODEL;
const rows = (n: number) => Float32Array.from(Array.from({ length: n }, (_, i) => (i % 2 ? [0, 1, i / n] : [1, 0, i / n])).flat());
const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const good = (): ImportEvidenceInput => ({ reference: encodeNpy(rows(64), [64, 3]), labels: json(['left', 'right']) });

async function refused(evidence: ImportEvidenceInput, code: string, message: string | RegExp) {
  const err = await kit
    .conversion()
    .importOnnx(model, 'toy', '', 'op', evidence)
    .then(
      () => null,
      (e: unknown) => e as { code: string; message: string; status: number },
    );
  expect(err).toMatchObject({ code, status: 400 });
  expect(err!.message).toMatch(message);
  expect(await kit.world().store.models.listVersions('toy')).toEqual([]);
}

describe('import with evidence', () => {
  it('computes profile, output histograms, calibration and self-test rows from the reference set', async () => {
    const v = await kit.conversion().importOnnx(model, 'toy', 'from elsewhere', 'op', {
      ...good(),
      evaluation: encodeNpy(rows(40), [40, 3]),
      evaluationLabels: encodeNpy(
        Int32Array.from({ length: 40 }, (_, i) => i % 2),
        [40],
      ),
      lineage: json({ exporter: 'torch.onnx', commit: 'abc123' }),
    });
    expect(v.metrics).toMatchObject({
      accuracy: 1,
      referenceRows: 64,
      labels: ['left', 'right'],
      import: { source: 'import', importedBy: 'op', lineage: { commit: 'abc123' } },
    });
    expect((v.metrics!.import as { digest: string }).digest).toBe(v.artifacts['model.onnx']);
    const ev = (await kit.conversion().evidence(v))!;
    expect(ev.reference.features.map((f) => f.name)).toEqual(['f0', 'f1', 'f2']);
    expect(ev.reference.predictions).toEqual([0.5, 0.5]);
    // softmax of a 4-point margin: every confidence is 0.982, in the last bin.
    expect(ev.reference.confidence!.frequencies.at(-1)).toBe(1);
    expect(ev.reference.calibration).toMatchObject({
      counts: [0, 0, 0, 0, 0, 0, 0, 0, 0, 40],
      accuracy: [null, null, null, null, null, null, null, null, null, 1],
    });
    expect(ev.selfTestInputs).toHaveLength(4);
    expect(ev.selfTestInputs[1]).toEqual([0, 1, 1 / 64]);
    // The rows themselves are kept (float32), for a later retrain by an outside trainer to profile cohorts on.
    const kept = readNpy((await kit.world().blobs.get(ev.referenceRows!))!);
    expect(kept.shape).toEqual([64, 3]);
    expect(Array.from(kept.data.subarray(3, 6))).toEqual([0, 1, 1 / 64]);
  });

  it('refuses a reference set of the wrong shape, type or size, naming what the model expects', async () => {
    await refused(
      { reference: encodeNpy(rows(64), [64, 3, 1]) },
      'REFERENCE_INVALID',
      "the reference set has shape [64, 3, 1]; the model's input 'x' expects [N, 3] (samples first)",
    );
    await refused(
      { reference: encodeNpy(new Float32Array(64 * 4), [64, 4]) },
      'REFERENCE_INVALID',
      "the reference set has shape [64, 4]; the model's input 'x' expects [N, 3] (dimension 1 differs)",
    );
    await refused(
      { reference: encodeNpy(Int32Array.from({ length: 64 * 3 }), [64, 3]) },
      'REFERENCE_INVALID',
      "the reference set has dtype <i8; the model's input 'x' takes float32",
    );
    await refused(
      { reference: encodeNpy(rows(31), [31, 3]) },
      'REFERENCE_INVALID',
      'the reference set has 31 rows; at least 32 are needed',
    );
    await refused(
      {
        reference: encodeNpy(
          Float32Array.from(rows(64), (v, i) => (i === 5 ? NaN : v)),
          [64, 3],
        ),
      },
      'REFERENCE_INVALID',
      'holds NaN or infinite values',
    );
    await refused(
      { reference: new TextEncoder().encode('a,b,c\n1,2,3\n') },
      'REFERENCE_INVALID',
      /^reference set: invalid \.npy file: missing/,
    );
  });

  it('refuses labels, held-out rows and lineage that do not fit', async () => {
    await refused({ ...good(), labels: json(['a', 'b', 'c']) }, 'LABELS_INVALID', '3 labels for an output of width 2');
    await refused({ ...good(), labels: json({ 0: 'a' }) }, 'LABELS_INVALID', 'labels must be a JSON array of non-empty class names');
    await refused({ ...good(), labels: new TextEncoder().encode('["a",') }, 'LABELS_INVALID', /^labels is not JSON/);
    await refused(
      { ...good(), evaluation: encodeNpy(rows(40), [40, 3]) },
      'EVALUATION_INVALID',
      'give both held-out inputs (--eval) and their labels (--eval-labels)',
    );
    await refused(
      { ...good(), evaluation: encodeNpy(rows(40), [40, 3]), evaluationLabels: encodeNpy(new Int32Array(39), [39]) },
      'EVALUATION_INVALID',
      'held-out labels have shape [39]; expected [40]',
    );
    await refused(
      { ...good(), evaluation: encodeNpy(rows(40), [40, 3]), evaluationLabels: encodeNpy(new Int32Array(40).fill(2), [40]) },
      'EVALUATION_INVALID',
      'held-out labels must be below the output width 2',
    );
    await refused({ ...good(), lineage: json(['not', 'an', 'object']) }, 'LINEAGE_INVALID', 'lineage must be a JSON object');
    await refused(
      { ...good(), lineage: json({ notes: 'x'.repeat(70_000) }) },
      'LINEAGE_INVALID',
      /^lineage is \d+ bytes; at most 65536 are kept/,
    );
  });
});

// The quantizer on real exported models: every corpus model is quantized with the product's defaults (calibration
// auto, parity on 48 held-out rows) or refused with its reason, and every int8 model the gate passes is checked
// again here, by an independent onnxruntime run on the held-out rows and the official ONNX checker: none may pass
// while computing something else.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { readNpy } from '@flotilla/server/convert/npy';
import { quantizeWithReport } from '@flotilla/server/convert/quantize-with-report';
import { onnxCheck } from '@flotilla/server/convert/testing/onnx-checker';
import { onnxCheckerMissing, torchMissing } from '../support/tools.ts';
import { ensureCorpus, type CorpusManifest, type CorpusModel } from './corpus-cache.ts';

/** Gate defaults: top-1 agreement for classifier outputs, relative L2 for the rest. */
const MIN_TOP1 = 0.99;
const MAX_REL_L2 = 0.05;

interface Outcome {
  file: string;
  passed: boolean;
  refused?: string;
  failures?: string[];
  sizeRatio?: number;
  int8?: Uint8Array;
}

const npy = (dir: string, file: string) => {
  const a = readNpy(new Uint8Array(readFileSync(path.join(dir, file))));
  return { data: a.data, shape: a.shape };
};

/** Outputs of `bytes` on every held-out row, one row at a time (fixed-batch models take one). */
async function run(bytes: Uint8Array, m: CorpusModel, x: { data: Float32Array; shape: number[] }): Promise<Float32Array[]> {
  const s = await ort.InferenceSession.create(bytes);
  const per = x.data.length / x.shape[0]!;
  const rows: Float32Array[] = [];
  for (let r = 0; r < x.shape[0]!; r++) {
    const v = x.data.subarray(r * per, (r + 1) * per);
    const dims = [1, ...x.shape.slice(1)];
    const t = m.inputs[0]!.dtype === 'int64' ? new ort.Tensor('int64', BigInt64Array.from(v, (n) => BigInt(n)), dims) : new ort.Tensor('float32', v.slice(), dims);
    const out = await s.run({ [s.inputNames[0]!]: t });
    rows.push((out[s.outputNames[0]!]!.data as Float32Array).slice());
  }
  await s.release();
  return rows;
}

const argmax = (v: Float32Array) => v.reduce((best, x, i) => (x > v[best]! ? i : best), 0);

/** The gate's verdict recomputed from scratch: top-1 agreement for classifiers, relative L2 for the rest. */
function independentlyAgrees(m: CorpusModel, f: Float32Array[], q: Float32Array[]): { ok: boolean; figure: string } {
  if (m.kind === 'classifier') {
    const agree = f.filter((row, i) => argmax(row) === argmax(q[i]!)).length / f.length;
    return { ok: agree >= MIN_TOP1, figure: `top-1 ${agree}` };
  }
  let dd = 0;
  let ff = 0;
  f.forEach((row, i) => row.forEach((v, j) => ((dd += (v - q[i]![j]!) ** 2), (ff += v * v))));
  const rel = Math.sqrt(dd / ff);
  return { ok: rel <= MAX_REL_L2, figure: `relative L2 ${rel}` };
}

describe.skipIf(torchMissing() ?? onnxCheckerMissing())('quantize corpus: real exported models to int8, or refused with the reason', () => {
  let dir = '';
  let manifest: CorpusManifest;
  const outcomes: Outcome[] = [];

  beforeAll(() => {
    ({ dir, manifest } = ensureCorpus());
  }, 900_000);

  // The issue's goal is 90% through the gate; measured here 43 of 63 (68%) before mixed precision: MobileNetV2,
  // ShuffleNetV2, RegNet and EfficientNet-B0 missed 99% top-1 agreement (EfficientNet by far: about 35%, the sum of
  // ~240 per-tensor uint8 activations each costing ~4% relative L2, not one broken op). Mixed precision now leaves the
  // noisiest activations float where the gate needs it (EfficientNet: int8 weights alone reach relative L2 ~1.4%);
  // MobileNetV2 and ShuffleNetV2 miss the gate even with int8 weights alone (7-bit weight rounding, ~8% and ~13%)
  // and stay refused by the gate. Measured with mixed precision (full suite, AMD EPYC without VNNI): 48 of 63 (76%),
  // every EfficientNet-B0 through; the floor leaves two models of margin for other CPUs' kernels.
  const FLOOR = 0.73;

  it('quantizes the corpus through the parity gate (floor 73%, goal 90%); the rest fails the gate or is refused with a reason', async () => {
    for (const m of manifest.models) {
      const floatBytes = new Uint8Array(readFileSync(path.join(dir, m.file)));
      try {
        const { int8Bytes, report } = await quantizeWithReport({
          floatBytes,
          calibration: npy(dir, m.calib),
          evaluation: { inputs: npy(dir, m.heldout) },
          mode: 'static',
          calibrationSettings: { method: 'auto' },
        });
        outcomes.push({ file: m.file, passed: report.gate.passed, failures: report.gate.failures, sizeRatio: report.parity.sizeRatio, int8: int8Bytes });
        const o = report.parity.outputs[0]!;
        console.log(
          `[corpus] ${m.file}: ${report.gate.passed ? 'passed' : 'failed'}, ${o.kind === 'classifier' ? `top-1 ${(o.top1Agreement! * 100).toFixed(1)}%` : `relative L2 ${o.relativeL2.toFixed(4)}`}, ` +
            `size ${report.parity.sizeRatio.toFixed(3)}, ${report.calibration?.method}, ${report.keptFloat?.length ?? 0} activation(s) float, int8 ×${report.speed?.batch1Speedup} at batch 1`,
        );
      } catch (err) {
        const e = err as { code?: string; message: string };
        outcomes.push({ file: m.file, passed: false, refused: `${e.code}: ${e.message}` });
      }
    }
    const passed = outcomes.filter((o) => o.passed);
    console.log(`[corpus] int8 through the gate: ${passed.length}/${outcomes.length}`);
    for (const o of outcomes.filter((x) => !x.passed)) console.log(`[corpus] not passed ${o.file}: ${o.refused ?? o.failures!.join('; ')}`);
    const sizes = passed.map((o) => o.sizeRatio!).sort((a, b) => a - b);
    console.log(`[corpus] int8 size / float: median ${sizes[Math.floor(sizes.length / 2)]!.toFixed(2)}, max ${sizes.at(-1)!.toFixed(2)}`);
    // Every model that did not pass says why: a refusal with a code, or the gate's failures.
    for (const o of outcomes.filter((x) => !x.passed)) expect(o.refused ?? o.failures!.join('; '), o.file).toMatch(/\w{3,}/);
    expect(passed.length / outcomes.length).toBeGreaterThanOrEqual(FLOOR);
    // Mixed precision tries up to ~10 candidates for a model that needs it: ~12 minutes on an idle 2-core machine.
  }, 3_600_000);

  it('no int8 model passes the gate while computing something else: an independent run on the held-out rows agrees', async () => {
    const wrong: string[] = [];
    for (const o of outcomes.filter((x) => x.passed)) {
      const m = manifest.models.find((x) => x.file === o.file)!;
      const heldout = npy(dir, m.heldout);
      const verdict = independentlyAgrees(m, await run(new Uint8Array(readFileSync(path.join(dir, m.file))), m, heldout), await run(o.int8!, m, heldout));
      if (!verdict.ok) wrong.push(`${o.file}: ${verdict.figure}`);
    }
    expect(outcomes.filter((x) => x.passed).length).toBeGreaterThan(0);
    expect(wrong).toEqual([]);
  }, 600_000);

  it('every int8 model that passed the gate passes the ONNX checker (full_check)', () => {
    const passed = Object.fromEntries(outcomes.filter((x) => x.passed).map((o) => [o.file, o.int8!]));
    expect(Object.keys(passed).length).toBeGreaterThan(0);
    const results = onnxCheck(passed);
    expect(Object.fromEntries(Object.entries(results).filter(([, v]) => v !== null))).toEqual({});
  }, 600_000);
});

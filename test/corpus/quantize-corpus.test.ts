// The quantizer on real exported models: every corpus model is quantized with the product's defaults (calibration
// auto, parity on 200 held-out rows) or refused with its reason, and every int8 model the gate passes is checked
// again here, by an independent onnxruntime run on the held-out rows and the official ONNX checker: none may pass
// while computing something else. The quantizing runs in two worker processes (quantize-corpus-worker.ts).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { readNpy } from '@flotilla/server/convert/npy';
import { onnxCheck } from '@flotilla/server/convert/testing/onnx-checker';
import { onnxCheckerMissing, torchMissing } from '../support/tools.ts';
import { ensureCorpus, type CorpusManifest, type CorpusModel } from './corpus-cache.ts';
import type { WorkerOutcome } from './quantize-corpus-worker.ts';

const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'quantize-corpus-worker.ts');
/** Worker processes: the quantizer's own work is mostly single-threaded JavaScript, so two share two cores well. */
const WORKERS = 2;

/** Gate defaults: top-1 agreement for classifier outputs, relative L2 for the rest. */
const MIN_TOP1 = 0.99;
const MAX_REL_L2 = 0.05;

interface Outcome extends WorkerOutcome {
  int8?: Uint8Array;
}

/** Runs one worker over `files`, its log lines passed through; resolves when it exits, rejects unless it exits 0. */
function quantizeIn(dir: string, out: string, files: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', WORKER, dir, out, ...files], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    proc.stdout.on('data', (b: Buffer) => process.stdout.write(b));
    proc.stderr.on('data', (b: Buffer) => (err = (err + b.toString()).slice(-4000)));
    proc.on('error', reject);
    proc.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`corpus worker exited ${code}: ${err}`))));
  });
}

/** Splits the models into `n` lists of similar cost: largest float file first, each to the lightest list so far. */
function balance(dir: string, models: CorpusModel[], n: number): string[][] {
  const lists = Array.from({ length: n }, () => ({ files: [] as string[], bytes: 0 }));
  const sized = models.map((m) => ({ file: m.file, bytes: statSync(path.join(dir, m.file)).size })).sort((a, b) => b.bytes - a.bytes);
  for (const m of sized) {
    const lightest = lists.reduce((a, b) => (b.bytes < a.bytes ? b : a));
    lightest.files.push(m.file);
    lightest.bytes += m.bytes;
  }
  return lists.map((l) => l.files);
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
    const t =
      m.inputs[0]!.dtype === 'int64'
        ? new ort.Tensor(
            'int64',
            BigInt64Array.from(v, (n) => BigInt(n)),
            dims,
          )
        : new ort.Tensor('float32', v.slice(), dims);
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
  }, 1_200_000);

  // The goal is 90% through the gate. History of this figure, all on AMD EPYC without VNNI:
  // - Earlier sessions reported 43, 48 and then 51 of 63. Those figures were inflated: 15 of the 63 models
  //   (MobileNetV3-Small, MNASNet, SqueezeNet, 5 each) computed a constant. MNASNet and MobileNetV3 had stale
  //   BatchNorm statistics (their slow momentum), and SqueezeNet's last ReLU had died. Any int8 model agrees with a
  //   constant. The corpus now recomputes BatchNorm statistics after training and refuses a classifier that predicts
  //   fewer than 3 classes; the second test below also checks every pass for this.
  // - Held-out rows were 48, so 99% meant 48 of 48. They are now 200, which allow the 2 flips that 99% means.
  // - On that honest corpus, with the old judging (32 calibration rows agree, logits within 5% relative L2): 22 of 63.
  //   Not one image CNN passed; most reached 97-98.5% top-1.
  // - Judging candidates also by the agreement expected on unseen rows (expected-agreement.ts): 37 of 63 (59%), in
  //   1,208 s (2026-12-06). The extra candidates this brings through are MobileNetV2 and MobileNetV3 ×5 each (weight-level fallback, 16-20 ops
  //   float) and EfficientNet-B0 ×5.
  // - Still failing: ResNet-18 ×5 at 98.5%. Its first candidate is kept because the 32 calibration rows say 99.8%.
  //   Minmax ranges from 32 rows clip held-out rows, and the error tail is heavy: the largest margin error is 0.40,
  //   against 0.15 when calibrated on the held-out rows themselves. Also failing: SqueezeNet ×5 (97%), RegNetY ×5
  //   (97-98%), tiny ViT ×3 (98.5%), MNASNet ×5 and ShuffleNetV2 ×3. These architectures amplify a 1% input
  //   perturbation into a 5-30% logit change (ResNet-18: 0.1%). Measured in torch: with 8-bit weights alone,
  //   MNASNet agrees 90.5% and ShuffleNetV2 93.5%.
  // - Those image classifiers had not learnt their task: labels from a random rule over pixel positions, which a
  //   global-pooling CNN cannot read, left them near chance (SqueezeNet 29%, RegNetY 41% of 10 classes, measured), with
  //   top-two margins no shipped model has. They now
  //   learn images whose class is in the picture (make-corpus.py `class_images`) and reach 94-100% on held-out images
  //   (manifest `floatAccuracy`; the build refuses one below 80%). Same quantizer: 61 of 63 (97%), in 592 s
  //   (2026-12-07). ResNet-18, RegNetY, MobileNetV2/V3 and the tiny ViT pass on their first candidate; MNASNet needs
  //   uint8 weights, 59 activations and 3 ops float. Still failing: ShuffleNetV2 ×2 at 96.5%. The same 61 after the
  //   segmenter and the audio CNN were widened (their int8 files were mostly graph) and token embedding tables became
  //   8-bit rows.
  // The floor is the goal, 90% (57 of 63); today 61 pass. If all five exports of one architecture fell below
  // the gate (SqueezeNet passes at 99.0%, the audio CNN at 99.5%), the goal would be missed, and this test says so.
  const FLOOR = 0.9;

  it('quantizes the corpus through the parity gate (floor = goal = 90%); the rest fails the gate or is refused with a reason', async () => {
    const out = mkdtempSync(path.join(tmpdir(), 'flotilla-corpus-int8-'));
    try {
      await Promise.all(balance(dir, manifest.models, WORKERS).map((files) => quantizeIn(dir, out, files)));
      for (const m of manifest.models) {
        const o = JSON.parse(readFileSync(path.join(out, `${m.file}.json`), 'utf8')) as WorkerOutcome;
        outcomes.push({ ...o, ...(o.refused ? {} : { int8: new Uint8Array(readFileSync(path.join(out, `${m.file}.int8.onnx`))) }) });
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
    const passed = outcomes.filter((o) => o.passed);
    console.log(`[corpus] int8 through the gate: ${passed.length}/${outcomes.length}`);
    for (const o of outcomes.filter((x) => !x.passed)) console.log(`[corpus] not passed ${o.file}: ${o.refused ?? o.failures!.join('; ')}`);
    const sizes = passed.map((o) => o.sizeRatio!).sort((a, b) => a - b);
    console.log(`[corpus] int8 size / float: median ${sizes[Math.floor(sizes.length / 2)]!.toFixed(2)}, max ${sizes.at(-1)!.toFixed(2)}`);
    // Every model that did not pass says why: a refusal with a code, or the gate's failures.
    for (const o of outcomes.filter((x) => !x.passed)) expect(o.refused ?? o.failures!.join('; '), o.file).toMatch(/\w{3,}/);
    expect(passed.length / outcomes.length).toBeGreaterThanOrEqual(FLOOR);
    // A model limited by its weights tries 9 candidates (int8 and uint8 weights, 3 methods and weights alone each,
    // then the most sensitive ops float), 20 when the weight-level fallback bisects; two worker processes share it.
  }, 3_600_000);

  it('no int8 model passes the gate while computing something else: an independent run on the held-out rows agrees', async () => {
    const wrong: string[] = [];
    const vacuous: string[] = [];
    for (const o of outcomes.filter((x) => x.passed)) {
      const m = manifest.models.find((x) => x.file === o.file)!;
      const heldout = npy(dir, m.heldout);
      const float = await run(new Uint8Array(readFileSync(path.join(dir, m.file))), m, heldout);
      const verdict = independentlyAgrees(m, float, await run(o.int8!, m, heldout));
      if (!verdict.ok) wrong.push(`${o.file}: ${verdict.figure}`);
      // A classifier whose float model gives the same class for every row agrees with any int8 model: such a pass
      // would mean nothing (the corpus once had 15 of them, constant after 120 training steps).
      const classes = new Set(float.map(argmax)).size;
      if (m.kind === 'classifier' && classes < 3) vacuous.push(`${o.file}: float predicts ${classes} class(es) over ${float.length} rows`);
    }
    expect(outcomes.filter((x) => x.passed).length).toBeGreaterThan(0);
    expect(wrong).toEqual([]);
    expect(vacuous).toEqual([]);
  }, 600_000);

  it('every int8 model that passed the gate passes the ONNX checker (full_check)', () => {
    const passed = Object.fromEntries(outcomes.filter((x) => x.passed).map((o) => [o.file, o.int8!]));
    expect(Object.keys(passed).length).toBeGreaterThan(0);
    const results = onnxCheck(passed);
    expect(Object.fromEntries(Object.entries(results).filter(([, v]) => v !== null))).toEqual({});
  }, 600_000);
});

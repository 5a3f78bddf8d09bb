// The upgrader and normaliser on real exported models (torch.onnx at opsets 9, 11, 13 and 17, with and without
// constant folding, dynamic or fixed batch, weights in Constant nodes): every model is normalised, run against its
// original in onnxruntime on data-like inputs (rel. L2 ≤ 1e-5) and passed through the official checker.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeModel, encodeModel, inferShapes, normalizeModel, opsetVersion } from '@flotilla/firmware-bundler/onnx';
import { readNpy } from '@flotilla/server/convert/npy';
import { quantizeStatic } from '@flotilla/server/convert/quantize/quantize-static';
import { onnxCheck } from '@flotilla/server/convert/testing/onnx-checker';
import { verifyUpgrade } from '@flotilla/server/convert/upgrade/verify-upgrade';
import { onnxCheckerMissing, torchMissing } from '../support/tools.ts';
import { ensureCorpus, type CorpusManifest, type CorpusModel } from './corpus-cache.ts';

interface Outcome {
  file: string;
  opset: number;
  maxRelL2?: number;
  rewritten: string[];
  error?: string;
}

/** Feeds from a .npy file: the whole array, and for a dynamic batch also its first two samples (another batch size). */
function feedsOf(dir: string, m: CorpusModel): Record<string, ort.Tensor>[] {
  const input = m.inputs[0]!;
  const npy = readNpy(new Uint8Array(readFileSync(path.join(dir, m.eval))));
  const tensor = (data: Float32Array, dims: number[]) =>
    input.dtype === 'int64'
      ? new ort.Tensor(
          'int64',
          BigInt64Array.from(data, (v) => BigInt(v)),
          dims,
        )
      : new ort.Tensor('float32', data, dims);
  const feeds = [{ [input.name]: tensor(npy.data, npy.shape) }];
  if (m.dynamicBatch && npy.shape[0]! > 2) {
    const per = npy.data.length / npy.shape[0]!;
    feeds.push({ [input.name]: tensor(npy.data.slice(0, 2 * per), [2, ...npy.shape.slice(1)]) });
  }
  return feeds;
}

describe.skipIf(torchMissing() ?? onnxCheckerMissing())('upgrade corpus: exported models normalised and checked', () => {
  let dir = '';
  let manifest: CorpusManifest;
  const outcomes: Outcome[] = [];
  const normalised: Record<string, Uint8Array> = {};

  beforeAll(() => {
    ({ dir, manifest } = ensureCorpus());
  }, 1_200_000);

  it('holds at least 30 models across the architectures, opsets 9/11/13/17, folding on and off, and Constant-node weights', () => {
    const ms = manifest.models;
    expect(ms.length).toBeGreaterThanOrEqual(30);
    expect(new Set(ms.map((m) => m.opset))).toEqual(new Set([9, 11, 13, 17]));
    expect(new Set(ms.map((m) => m.arch)).size).toBeGreaterThanOrEqual(12);
    expect(ms.some((m) => m.constantFolding) && ms.some((m) => !m.constantFolding)).toBe(true);
    expect(ms.some((m) => m.dynamicBatch) && ms.some((m) => !m.dynamicBatch)).toBe(true);
    expect(ms.filter((m) => m.constantNodes).length).toBeGreaterThanOrEqual(10);
    console.log(
      `[corpus] ${ms.length} models (torch ${manifest.torch}, onnx ${manifest.onnx}); exporter refused ${manifest.skipped.length}:`,
      manifest.skipped.map((s) => `${s.arch}@${s.opset}`),
    );
  });

  it('normalises every model to opset ≥ 13 and onnxruntime agrees with the original (rel. L2 ≤ 1e-5)', async () => {
    for (const m of manifest.models) {
      const bytes = new Uint8Array(readFileSync(path.join(dir, m.file)));
      try {
        const model = decodeModel(bytes);
        const report = normalizeModel(model);
        expect(opsetVersion(model)).toBe(Math.max(13, m.opset));
        // Shape inference sizes the input like the exported data (symbolic batch kept symbolic).
        const input = inferShapes(model.graph!).info.get(m.inputs[0]!.name);
        expect(input?.dims).toEqual(m.inputs[0]!.shape);
        const out = encodeModel(model);
        const check = await verifyUpgrade(bytes, out, feedsOf(dir, m), report.upgrade.rewritten);
        outcomes.push({ file: m.file, opset: m.opset, maxRelL2: check.maxRelL2, rewritten: report.upgrade.rewritten });
        normalised[m.file] = out;
      } catch (err) {
        outcomes.push({ file: m.file, opset: m.opset, rewritten: [], error: (err as Error).message });
      }
    }
    const failed = outcomes.filter((o) => o.error);
    const rewrites = new Map<string, number>();
    for (const o of outcomes) for (const op of o.rewritten) rewrites.set(op, (rewrites.get(op) ?? 0) + 1);
    const worst = Math.max(...outcomes.map((o) => o.maxRelL2 ?? 0));
    console.log(
      `[corpus] normalised ${outcomes.length - failed.length}/${outcomes.length}; worst rel. L2 ${worst.toExponential(2)}; rewritten ops (models):`,
      Object.fromEntries([...rewrites].sort()),
    );
    expect(failed).toEqual([]);
  }, 240_000);

  it('the static quantizer now takes old-opset exports with Constant-node weights (it refused all of them before)', async () => {
    const picked = manifest.models.filter((m) => m.constantNodes && m.opset < 13 && m.inputs[0]!.dtype === 'float32');
    expect(picked.length).toBeGreaterThanOrEqual(10);
    for (const m of picked) {
      const calib = readNpy(new Uint8Array(readFileSync(path.join(dir, m.calib))));
      const q = await quantizeStatic(new Uint8Array(readFileSync(path.join(dir, m.file))), { data: calib.data, shape: calib.shape });
      expect(q.quantizedWeights, m.file).toBeGreaterThan(0);
      expect(opsetVersion(decodeModel(q.bytes)), m.file).toBe(13);
    }
  }, 120_000);

  it('every normalised model passes the ONNX checker (full_check)', () => {
    expect(Object.keys(normalised)).toHaveLength(manifest.models.length);
    const results = onnxCheck(normalised);
    expect(Object.fromEntries(Object.entries(results).filter(([, v]) => v !== null))).toEqual({});
  }, 240_000);
});

// Conversion worker thread: tfjs → ONNX export, calibration, int8 quantization and parity, off the API's event loop.
import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { evaluateParity, exportTfjsModel, inspectOnnx, quantizeWithReport, type SampleSet } from '../convert/index.ts';
import { decodeDataset } from '../datasets/canonical-format.ts';
import { splitIndices, takeRows } from '../datasets/splits.ts';
import type { ConversionJob, ConversionResult, SampleSource } from './conversion-protocol.ts';

interface Samples {
  set: SampleSet;
  labels?: Int32Array;
}

/** Calibration from the training split, evaluation on the test split (or the inline samples for both). */
function samplesFrom(src: SampleSource, part: 'train' | 'test', limit: number): Samples {
  if (src.kind === 'inline') {
    const rows = src.shape[0]!;
    const per = src.data.length / rows;
    const n = Math.min(rows, limit);
    return { set: { data: src.data.subarray(0, n * per), shape: [n, ...src.shape.slice(1)] } };
  }
  const { data } = decodeDataset(new Uint8Array(readFileSync(src.path)));
  const split = splitIndices(data.n, { seed: src.splitSeed, train: 0.8, validation: 0.1, test: 0.1 });
  const rows = takeRows(data, (part === 'train' ? split.train : split.test).subarray(0, limit));
  return { set: { data: rows.x, shape: [rows.n, ...rows.featureShape] }, labels: rows.y };
}

async function loadLayersModel(modelJson: string, weights: Uint8Array): Promise<tf.LayersModel> {
  const json = JSON.parse(modelJson);
  return tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest.flatMap((g: { weights: unknown[] }) => g.weights),
      weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer,
    }),
  );
}

async function run(job: ConversionJob): Promise<ConversionResult> {
  await tf.setBackend('cpu');
  let floatOnnx: Uint8Array;
  let calibration: Samples;
  let evaluation: Samples | null;
  let settings = job.type === 'export' ? job.quantize : job.settings;
  if (job.type === 'export') {
    const model = await loadLayersModel(job.modelJson, job.weights);
    floatOnnx = exportTfjsModel(model).bytes;
    model.dispose();
    calibration = samplesFrom(job.samples, 'train', settings?.calibrationSamples ?? 512);
    evaluation = samplesFrom(job.samples, 'test', Infinity);
  } else {
    floatOnnx = job.onnx;
    calibration = samplesFrom(job.calibration, 'train', job.settings.calibrationSamples);
    evaluation = job.evaluation ? samplesFrom(job.evaluation, 'test', Infinity) : null;
  }
  const inspection = await inspectOnnx(floatOnnx);
  const evalSet = evaluation ?? calibration;
  if (!settings) {
    const parity = await evaluateParity({
      floatBytes: floatOnnx,
      int8Bytes: floatOnnx,
      inputs: evalSet.set,
      labels: evalSet.labels,
      latency: false,
    });
    return {
      ok: true,
      floatOnnx,
      int8Onnx: null,
      report: null,
      floatAccuracy: parity.float.accuracy,
      signature: inspection.signature,
      opset: inspection.opset,
    };
  }
  settings = { ...settings };
  const q = await quantizeWithReport({
    floatBytes: floatOnnx,
    calibration: calibration.set,
    evaluation: { inputs: evalSet.set, labels: evalSet.labels },
    mode: settings.mode,
    calibrationSettings: { method: settings.method, maxSamples: settings.calibrationSamples },
    gate: settings.gate,
    override: settings.override,
  });
  return {
    ok: true,
    floatOnnx,
    int8Onnx: q.int8Bytes,
    report: q.report,
    floatAccuracy: q.report.parity.float.accuracy,
    signature: inspection.signature,
    opset: inspection.opset,
  };
}

const job = (workerData as { job: ConversionJob }).job;
run(job)
  .then((r) => parentPort!.postMessage(r))
  .catch((e: Error & { code?: string }) =>
    parentPort!.postMessage({
      ok: false,
      code: typeof e.code === 'string' && /^[A-Z_]+$/.test(e.code) ? e.code : 'CONVERSION_FAILED',
      message: String(e.message ?? e),
    } satisfies ConversionResult),
  );

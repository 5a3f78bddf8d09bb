// Training worker thread: loads the dataset version, splits it, trains, evaluates, and sends back
// the model files. Runs beside the API's event loop so a long run never blocks requests.
import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { decodeDataset } from '../datasets/canonical-format.ts';
import { splitIndices, takeRows } from '../datasets/splits.ts';
import { selectBackend } from '../training/backend.ts';
import { evaluateModel } from '../training/evaluate.ts';
import { buildModel } from '../training/build-model.ts';
import { validateHyperparams } from '../training/hyperparams.ts';
import { trainModel } from '../training/train-loop.ts';
import { featureStats, standardizeRows, withStandardizeLayer, type FeatureStats } from '../training/standardize.ts';
import type { FromWorker, RunJob, ToWorker } from './run-protocol.ts';
import { classifierSignature } from './signature.ts';

const port = parentPort!;
const job = (workerData as { job: RunJob }).job;
const abort = new AbortController();
port.on('message', (m: ToWorker) => {
  if (m.type === 'cancel') abort.abort();
});
const send = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

async function main(): Promise<void> {
  // Asking for webgpu means asking for the GPU: a run that silently fell back to wasm would hide why.
  const backend = await selectBackend(job.backend ? { prefer: job.backend as never, strict: job.backend === 'webgpu' } : {});
  const { data } = decodeDataset(new Uint8Array(readFileSync(job.datasetPath)));
  const split = splitIndices(data.n, { seed: job.splitSeed, train: 0.8, validation: 0.1, test: 0.1 });
  const train = takeRows(data, split.train);
  const validation = takeRows(data, split.validation);
  const test = takeRows(data, split.test);
  send({ type: 'started', backend: { ...backend }, split: { train: train.n, validation: validation.n, test: test.n } });

  const hyper = validateHyperparams(job.hyper);
  if (!hyper.ok) throw Object.assign(new Error(hyper.errors.join('; ')), { code: 'INVALID_HYPERPARAMETERS' });
  const standardization = standardizationFor(hyper.hyper.standardize, data.featureShape, train);
  const scaled = <T extends { x: Float32Array }>(rows: T): T =>
    'stats' in standardization ? standardizeRows(rows, standardization.stats) : rows;
  const trained = await buildModel(job.spec, { inputShape: data.featureShape, numClasses: data.numClasses, seed: hyper.hyper.seed });
  const result = await trainModel({
    model: trained,
    train: scaled(train),
    validation: scaled(validation),
    hyper: hyper.hyper,
    signal: abort.signal,
    onEpoch: (record) => send({ type: 'epoch', record }),
    onBatch: (p) => send({ type: 'batch', epoch: p.epoch, batch: p.batch, batches: p.batchesPerEpoch, loss: p.loss }),
  });
  if (result.cancelled) {
    send({ type: 'done', cancelled: true, metrics: {}, modelJson: '', weights: new Uint8Array(), signature: { inputs: [], outputs: [] } });
    return;
  }
  // The saved model takes raw rows: the statistics become its first layer, and it is judged on raw test rows.
  const model = 'stats' in standardization ? withStandardizeLayer(trained, standardization.stats) : trained;
  const evaluation = await evaluateModel(model, test, { batchSize: 256 });
  const saved = await saveModel(model);
  const signature = classifierSignature(data.featureShape, data.numClasses);
  send(
    {
      type: 'done',
      cancelled: false,
      metrics: { ...evaluation, testSamples: test.n, standardization: describeStandardization(standardization) },
      modelJson: saved.modelJson,
      weights: saved.weights,
      signature,
    },
    [saved.weights.buffer as ArrayBuffer],
  );
  model.dispose();
}

type Standardization = { stats: FeatureStats } | { skipped: string };

/** Whether this run standardises its features, and why not when it does not. */
function standardizationFor(wanted: boolean, featureShape: readonly number[], train: { x: Float32Array; n: number }): Standardization {
  if (!wanted) return { skipped: 'turned off (standardize: false)' };
  if (featureShape.length !== 1) return { skipped: `rank-${featureShape.length} inputs (images) are not standardised` };
  return { stats: featureStats(train.x, train.n, featureShape[0]!) };
}

/** What the run's metrics record: the statistics the model's first layer applies, or why there is none. */
function describeStandardization(s: Standardization): Record<string, unknown> {
  return 'stats' in s
    ? { applied: true, layer: 'standardize', mean: s.stats.mean, std: s.stats.std }
    : { applied: false, reason: s.skipped };
}

/** Serialises a LayersModel to the standard model.json + one weights file (weights path 'weights.bin'). */
async function saveModel(model: tf.LayersModel): Promise<{ modelJson: string; weights: Uint8Array }> {
  let out: { modelJson: string; weights: Uint8Array } | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      const weights = new Uint8Array(a.weightData as ArrayBuffer);
      const json = {
        modelTopology: a.modelTopology,
        format: 'layers-model',
        generatedBy: 'flotilla',
        weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }],
      };
      out = { modelJson: JSON.stringify(json), weights: weights.slice() };
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return out!;
}

main().catch((e: Error & { code?: string }) => {
  send({ type: 'error', code: e.code && /^[A-Z_]+$/.test(e.code) ? e.code : 'TRAINING_FAILED', message: String(e.message ?? e) });
});

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
  const model = await buildModel(job.spec, { inputShape: data.featureShape, numClasses: data.numClasses, seed: hyper.hyper.seed });
  const result = await trainModel({
    model, train, validation, hyper: hyper.hyper, signal: abort.signal,
    onEpoch: (record) => send({ type: 'epoch', record }),
    onBatch: (p) => send({ type: 'batch', epoch: p.epoch, batch: p.batch, batches: p.batchesPerEpoch, loss: p.loss }),
  });
  if (result.cancelled) {
    send({ type: 'done', cancelled: true, metrics: {}, modelJson: '', weights: new Uint8Array(), signature: { inputs: [], outputs: [] } });
    return;
  }
  const evaluation = await evaluateModel(model, test, { batchSize: 256 });
  const saved = await saveModel(model);
  const signature = classifierSignature(data.featureShape, data.numClasses);
  send({ type: 'done', cancelled: false, metrics: { ...evaluation, testSamples: test.n }, modelJson: saved.modelJson, weights: saved.weights, signature }, [saved.weights.buffer as ArrayBuffer]);
  model.dispose();
}

/** Serialises a LayersModel to the standard model.json + one weights file (weights path 'weights.bin'). */
async function saveModel(model: tf.LayersModel): Promise<{ modelJson: string; weights: Uint8Array }> {
  let out: { modelJson: string; weights: Uint8Array } | undefined;
  await model.save(tf.io.withSaveHandler(async (a) => {
    const weights = new Uint8Array(a.weightData as ArrayBuffer);
    const json = { modelTopology: a.modelTopology, format: 'layers-model', generatedBy: 'flotilla', weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }] };
    out = { modelJson: JSON.stringify(json), weights: weights.slice() };
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  return out!;
}

main().catch((e: Error & { code?: string }) => {
  send({ type: 'error', code: e.code && /^[A-Z_]+$/.test(e.code) ? e.code : 'TRAINING_FAILED', message: String(e.message ?? e) });
});

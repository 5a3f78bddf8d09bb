// Loads a TensorFlow.js layers model from a model.json and its weight files on disk (no network, no tfjs-node).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ExportError } from './convert-error.ts';

interface ModelJson {
  modelTopology?: unknown;
  format?: string;
  generatedBy?: string;
  convertedBy?: string;
  weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  trainingConfig?: tf.io.TrainingConfig;
}

/**
 * Reads `model.json` and the weight shards it names (paths relative to it) into a LayersModel.
 * Graph models (tfjs-converter output of a SavedModel) are refused: they carry no layers to export.
 */
export async function loadTfjsModelFromFiles(modelJsonPath: string): Promise<tf.LayersModel> {
  let json: ModelJson;
  try {
    json = JSON.parse(await readFile(modelJsonPath, 'utf8')) as ModelJson;
  } catch (err) {
    throw new ExportError('EXPORT_INVALID_MODEL', `cannot read ${modelJsonPath}: ${(err as Error).message}`);
  }
  if (!json.modelTopology || !Array.isArray(json.weightsManifest)) {
    throw new ExportError(
      'EXPORT_INVALID_MODEL',
      `${modelJsonPath} is not a TensorFlow.js model.json (modelTopology and weightsManifest are required)`,
    );
  }
  if (json.format === 'graph-model') {
    throw new ExportError('EXPORT_INVALID_MODEL', `${modelJsonPath} is a graph model; only layers models can be exported`);
  }
  const dir = path.dirname(modelJsonPath);
  const shards: Uint8Array[] = [];
  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  for (const group of json.weightsManifest) {
    for (const p of group.paths) {
      const file = path.resolve(dir, p);
      if (path.relative(dir, file).startsWith('..'))
        throw new ExportError('EXPORT_INVALID_MODEL', `weight path '${p}' leaves the model folder`);
      try {
        shards.push(new Uint8Array(await readFile(file)));
      } catch (err) {
        throw new ExportError('EXPORT_INVALID_MODEL', `cannot read weight file ${p}: ${(err as Error).message}`);
      }
    }
    weightSpecs.push(...group.weights);
  }
  const total = shards.reduce((n, s) => n + s.length, 0);
  const weightData = new Uint8Array(total);
  let offset = 0;
  for (const s of shards) {
    weightData.set(s, offset);
    offset += s.length;
  }
  const handler: tf.io.IOHandler = {
    load: async () => ({
      modelTopology: json.modelTopology as tf.io.ModelArtifacts['modelTopology'],
      weightSpecs,
      weightData: weightData.buffer,
      ...(json.format ? { format: json.format } : {}),
      ...(json.generatedBy ? { generatedBy: json.generatedBy } : {}),
      ...(json.convertedBy ? { convertedBy: json.convertedBy } : {}),
      ...(json.trainingConfig ? { trainingConfig: json.trainingConfig } : {}),
    }),
  };
  try {
    return await tf.loadLayersModel(handler);
  } catch (err) {
    throw new ExportError('EXPORT_INVALID_MODEL', `cannot build the model from ${modelJsonPath}: ${(err as Error).message}`);
  }
}

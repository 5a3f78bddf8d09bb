// onnxruntime-node sessions for validation, calibration and evaluation, and batched runs over samples.
import * as ort from 'onnxruntime-node';
import { ConvertError } from './convert-error.ts';
import type { SampleDtype } from './onnx-signature.ts';
import { sliceBatch, type Samples } from './samples.ts';

/** Session settings used across the convert module. */
export interface SessionSettings {
  /** Intra-op threads; default 0 (onnxruntime picks, one per core). */
  intraOpThreads?: number;
  /** Graph optimization level; default `all` (the QDQ fusions into int8 kernels need at least `extended`). */
  optimization?: 'disabled' | 'basic' | 'extended' | 'all';
  /** Where onnxruntime writes the optimized model, for checking which fusions applied. */
  optimizedModelPath?: string;
}

/** Loads model bytes into onnxruntime-node; a failure becomes `ONNX_INVALID` with onnxruntime's message. */
export async function openSession(bytes: Uint8Array, settings: SessionSettings = {}): Promise<ort.InferenceSession> {
  try {
    return await ort.InferenceSession.create(bytes, {
      graphOptimizationLevel: settings.optimization ?? 'all',
      intraOpNumThreads: settings.intraOpThreads ?? 0,
      ...(settings.optimizedModelPath ? { optimizedModelFilePath: settings.optimizedModelPath } : {}),
    });
  } catch (err) {
    throw new ConvertError('ONNX_INVALID', `onnxruntime cannot load the model: ${(err as Error).message}`);
  }
}

/**
 * An input tensor of the model's element type from sample values (held as float32, as .npy and JSON files give
 * them). Integer inputs (token ids) must hold whole numbers: 3.5 is no token, and rounding it would be a guess.
 */
export function inputTensor(dtype: SampleDtype | undefined, data: Float32Array, dims: number[]): ort.Tensor {
  if (!dtype || dtype === 'float32') return new ort.Tensor('float32', data, dims);
  for (const v of data) {
    if (!Number.isInteger(v))
      throw new ConvertError('QUANT_BAD_CALIBRATION', `the model's input is ${dtype}; sample value ${v} is not a whole number`);
  }
  return dtype === 'int64'
    ? new ort.Tensor(
        'int64',
        BigInt64Array.from(data, (v) => BigInt(v)),
        dims,
      )
    : new ort.Tensor('int32', Int32Array.from(data), dims);
}

/** The batch size a model accepts: its fixed leading dim, else `preferred`. */
export function batchSizeFor(inputShape: (number | null)[], preferred: number): number {
  const first = inputShape[0];
  return typeof first === 'number' && first > 0 ? first : preferred;
}

/**
 * Runs `session` over all samples in batches, calling `onBatch` with the requested outputs of each.
 * A trailing partial batch is run as is (dynamic batch) or dropped when the model's batch is fixed.
 */
export async function runInBatches(
  session: ort.InferenceSession,
  inputName: string,
  samples: Samples,
  batchSize: number,
  fixedBatch: boolean,
  onBatch: (outputs: Record<string, ort.Tensor>, start: number, count: number) => void,
  fetch?: string[],
): Promise<void> {
  for (let start = 0; start < samples.count; start += batchSize) {
    const { data, dims } = sliceBatch(samples, start, batchSize);
    if (fixedBatch && dims[0] !== batchSize) break;
    const feeds = { [inputName]: inputTensor(samples.dtype, data, dims) };
    const out = fetch ? await session.run(feeds, fetch) : await session.run(feeds);
    onBatch(out as Record<string, ort.Tensor>, start, dims[0]!);
  }
}

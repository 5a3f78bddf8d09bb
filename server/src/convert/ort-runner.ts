// onnxruntime-node sessions for validation, calibration and evaluation, and batched runs over samples.
import * as ort from 'onnxruntime-node';
import { ConvertError } from './convert-error.ts';
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
    const feeds = { [inputName]: new ort.Tensor('float32', data, dims) };
    const out = fetch ? await session.run(feeds, fetch) : await session.run(feeds);
    onBatch(out as Record<string, ort.Tensor>, start, dims[0]!);
  }
}

// Compares a float model and its int8 version on held-out samples: accuracy, top-1 agreement, output error, size, latency.
import { createHash } from 'node:crypto';
import * as ort from 'onnxruntime-node';
import { decodeModel } from '@flotilla/firmware-bundler/onnx';
import { QuantizeError } from './convert-error.ts';
import { kernelSafety, type KernelSafety } from './kernel-safety.ts';
import { argmax, OutputComparison, outputKind, type OutputParity } from './output-agreement.ts';
import { medianLatencies } from './latency.ts';
import { signatureOf, singleModelInput } from './onnx-signature.ts';
import { batchSizeFor, inputTensor, openSession, runInBatches } from './ort-runner.ts';
import { sliceBatch, toSamples, type SampleSet, type Samples } from './samples.ts';

/** Figures of one model in a {@link ParityReport}. */
export interface ModelFigures {
  /** sha256 of the model bytes, lower-case hex. */
  digest: string;
  /** Model file size in bytes. */
  bytes: number;
  /** Top-1 accuracy on the labelled samples, 0..1; null without labels. */
  accuracy: number | null;
  /** Median latency in microseconds on onnxruntime-node; null when not measured. */
  latencyUs: { batch1: number; batchN: number } | null;
}

/** How an int8 model compares to its float parent. */
export interface ParityReport {
  float: ModelFigures;
  int8: ModelFigures;
  /** int8 bytes / float bytes. */
  sizeRatio: number;
  /** Samples compared. */
  samples: number;
  /** Batch size of the batched latency figure (`latencyUs.batchN`). */
  batchSize: number;
  /** Fraction (0..1) of samples where both models pick the same top-1 class. */
  top1Agreement: number;
  /** float accuracy − int8 accuracy, in percentage points; null without labels. */
  accuracyDropPoints: number | null;
  /** Largest absolute difference between corresponding outputs. */
  maxAbsDiff: number;
  /** Mean absolute difference between corresponding outputs. */
  meanAbsDiff: number;
  /** Output the top-level figures describe (the first graph output). */
  outputName: string;
  /** Every output compared on its own terms: top-1 for classifier outputs, relative L2 and cosine for all. */
  outputs: OutputParity[];
  /** Runtime that produced every figure, e.g. `onnxruntime-node 1.30.0`. */
  runtime: string;
  /**
   * Whether the figures hold on every device CPU: int8 weights outside [-64, 63] saturate on x86 CPUs
   * without VNNI, so the same file would compute something else there than on the CPU that measured it.
   */
  kernelSafety: KernelSafety;
}

export interface ParityInput {
  floatBytes: Uint8Array;
  int8Bytes: Uint8Array;
  /** Held-out samples (the test split), not calibration data. */
  inputs: SampleSet;
  /** Class index per sample, for accuracy. */
  labels?: ArrayLike<number>;
  /** Batch size for evaluation and the batched latency; default 64. */
  batchSize?: number;
  /** Measure latency (about 2 s); default true. */
  latency?: boolean;
}

export const sha256Hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function latencyOf(
  sessions: ort.InferenceSession[],
  inputName: string,
  samples: Samples,
  batchSize: number,
): Promise<{ batch1: number; batchN: number }[]> {
  const feeds = (n: number) => {
    const { data, dims } = sliceBatch(samples, 0, n);
    return { [inputName]: inputTensor(samples.dtype, data.slice(), dims) };
  };
  const one = feeds(1);
  const many = feeds(batchSize);
  const cases = sessions.flatMap((s, i) => [
    { name: `${i}:1`, run: () => s.run(one) },
    { name: `${i}:n`, run: () => s.run(many) },
  ]);
  const med = await medianLatencies(cases, { budgetMs: 1500 });
  return sessions.map((_, i) => ({ batch1: med[`${i}:1`]!, batchN: med[`${i}:n`]! }));
}

/** Runs both models over the samples with onnxruntime-node and compares them. */
export async function evaluateParity(input: ParityInput): Promise<ParityReport> {
  const sig = signatureOf(decodeModel(input.floatBytes));
  const { name: inputName, shape, dtype } = singleModelInput(sig);
  const outputName = sig.outputs[0]?.name ?? '';
  const samples = toSamples(input.inputs, shape, dtype);
  if (input.labels && input.labels.length < samples.count) {
    throw new QuantizeError('QUANT_BAD_CALIBRATION', `${input.labels.length} labels for ${samples.count} samples`);
  }
  const preferred = input.batchSize ?? 64;
  const batch = batchSizeFor(shape, preferred);
  const fixed = typeof shape[0] === 'number';
  const [fs, qs] = [await openSession(input.floatBytes), await openSession(input.int8Bytes)];
  const outputNames = sig.outputs.map((o) => o.name);
  const outs: Record<string, Float32Array>[][] = [[], []];
  const rowsPerBatch: number[] = [];
  for (const [k, s] of [fs, qs].entries()) {
    await runInBatches(
      s,
      inputName,
      samples,
      batch,
      fixed,
      (o, _start, count) => {
        outs[k]!.push(Object.fromEntries(outputNames.map((name) => [name, o[name]!.data as Float32Array])));
        if (k === 0) rowsPerBatch.push(count);
      },
      outputNames,
    );
  }
  const perOutput = sig.outputs.map((o) => new OutputComparison(o.name, outputKind(o.dtype, o.shape)));
  outs[0]!.forEach((batchOut, b) => {
    for (const c of perOutput) c.add(batchOut[c.name]!, outs[1]![b]![c.name]!, rowsPerBatch[b]!);
  });
  // Output differences come from the first output's comparison; this pass adds only top-1 and accuracy.
  const outputs = perOutput.map((c) => c.result());
  let agree = 0;
  let correctF = 0;
  let correctQ = 0;
  let n = 0;
  for (let b = 0; b < outs[0]!.length; b++) {
    const f = outs[0]![b]![outputName]!;
    const q = outs[1]![b]![outputName]!;
    const rows = Math.min(batch, samples.count - n);
    const cols = f.length / rows;
    for (let r = 0; r < rows; r++, n++) {
      const pf = argmax(f, r * cols, cols);
      const pq = argmax(q, r * cols, cols);
      if (pf === pq) agree++;
      if (input.labels) {
        if (pf === Number(input.labels[n])) correctF++;
        if (pq === Number(input.labels[n])) correctQ++;
      }
    }
  }
  const lat = input.latency === false ? [null, null] : await latencyOf([fs, qs], inputName, samples, fixed ? batch : preferred);
  await fs.release();
  await qs.release();
  const accF = input.labels ? correctF / n : null;
  const accQ = input.labels ? correctQ / n : null;
  return {
    float: { digest: sha256Hex(input.floatBytes), bytes: input.floatBytes.length, accuracy: accF, latencyUs: lat[0]! },
    int8: { digest: sha256Hex(input.int8Bytes), bytes: input.int8Bytes.length, accuracy: accQ, latencyUs: lat[1]! },
    sizeRatio: input.int8Bytes.length / input.floatBytes.length,
    samples: n,
    batchSize: fixed ? batch : preferred,
    top1Agreement: n ? agree / n : 0,
    accuracyDropPoints: accF !== null && accQ !== null ? (accF - accQ) * 100 : null,
    maxAbsDiff: outputs[0]?.maxAbsDiff ?? 0,
    meanAbsDiff: outputs[0]?.meanAbsDiff ?? 0,
    outputName,
    outputs,
    runtime: `onnxruntime-node ${ort.env.versions.node ?? ort.env.versions.common}`,
    kernelSafety: kernelSafety(decodeModel(input.int8Bytes)),
  };
}

// Static int8 quantization in QDQ form: calibrated uint8 activations, int8 per-channel weights, int32 biases.
import * as ort from 'onnxruntime-node';
import { encodeModel, pruneUnused } from '@flotilla/firmware-bundler/onnx';
import { QuantizeError } from '../convert-error.ts';
import { signatureOf, singleModelInput } from '../onnx-signature.ts';
import { batchSizeFor, inputTensor, openSession } from '../ort-runner.ts';
import { sliceBatch, toSamples, type SampleSet, type Samples } from '../samples.ts';
import { verifyUpgrade } from '../upgrade/verify-upgrade.ts';
import { calibrateRanges, type AppliedCalibration, type CalibratedRanges, type CalibrationSettings } from './calibrate.ts';
import { compactGraph, compactNote } from './compact-graph.ts';
import { findEmbeddingTables, quantizeEmbeddingTables } from './embedding-tables.ts';
import { insertQdq } from './insert-qdq.ts';
import { prepareForQuantization } from './prepare-graph.ts';
import { nodeKey, planQdq, withoutActivations } from './qdq-plan.ts';
import type { WeightType } from './quant-math.ts';

/**
 * Something left float on purpose: an activation (`tensor`, produced by `op`), or a whole weighted op (`node`, its
 * first output; `tensor` is then its weight and `op` its type) whose weights, bias and input activation stay float.
 */
export interface KeptFloat {
  tensor: string;
  op: string;
  node?: string;
  reason: string;
}

/** A quantized model and how it was made. */
export interface QuantizedModel {
  /** The int8 model (ONNX bytes). */
  bytes: Uint8Array;
  mode: 'static' | 'dynamic';
  /** Calibration as applied (static mode only). */
  calibration?: AppliedCalibration;
  /** Weights quantized. */
  quantizedWeights: number;
  /** Embedding tables stored as 8-bit rows (embedding-tables.ts; static mode). */
  quantizedEmbeddings?: number;
  /** How the weights are stored (static mode; dynamic mode stores `int8`). */
  weightType?: WeightType;
  /** Activation tensors with a QuantizeLinear/DequantizeLinear pair (static mode). */
  quantizedActivations: number;
  /** Op types left computing in float (softmax, final ops, recurrent cells, ...). */
  floatOps: string[];
  /** Preparation steps applied (opset upgrade, BatchNorm folding, ...). */
  notes: string[];
  /**
   * Activations left float on purpose (mixed precision, static mode): the tensor, the op that produces it and
   * why. Empty when every activation the plan could quantize is quantized.
   */
  keptFloat?: KeptFloat[];
  /**
   * Static mode: every calibrated activation, noisiest first (its uint8 rounding noise relative to its mean
   * square), the order in which mixed precision leaves them float; and the calibration to reuse for that.
   */
  sensitivity?: { tensor: string; noiseRatio: number }[];
  calibrated?: CalibratedRanges;
}

/** Options of {@link quantizeStatic}. */
export interface StaticQuantizeOptions {
  calibration?: CalibrationSettings;
  /**
   * Largest |int8 weight|; default 63, exact on every CPU. 127 exists only so the benchmark can show what
   * the default costs: such a model saturates on x86 CPUs without VNNI, and the parity gate refuses it.
   */
  weightQmax?: number;
  /** Weight storage (default `int8`, 7-bit): see {@link WeightType}. */
  weightType?: WeightType;
  /** Activations (as in {@link QuantizedModel.sensitivity}) to leave float, each with the reason for the report. */
  keepFloat?: ReadonlyMap<string, string>;
  /**
   * Weighted ops (by their first output, qdq-plan.ts `nodeKey`) to leave float with their weights, bias and input
   * activation (unless another quantized op reads it), each with the reason for the report.
   */
  floatNodes?: ReadonlyMap<string, string>;
  /** Ranges from an earlier call on the same model and samples with the same settings: skips calibration. */
  calibrated?: CalibratedRanges;
  /**
   * Bias correction (default off): each weighted op's bias absorbs the mean shift its weight rounding causes,
   * measured on the calibration samples. Off because it traded agreement for error where logits are close: on
   * the corpus EfficientNet-B0 its relative L2 fell (2.1% → 1.6%) while top-1 agreement fell from 100% to 25%
   * (a per-class offset flips near-tied logits on every row), and it brought no failing model through the gate
   * (MobileNetV2 weights-only 8.1% → 7.2%).
   */
  biasCorrection?: boolean;
}

/**
 * Quantizes any float32 ONNX model (exported or imported) statically. `calibration` is a sample of the
 * training split. Refuses (QuantizeError) models it cannot quantize correctly; the result always loads in
 * onnxruntime-node, which is checked before returning.
 */
export async function quantizeStatic(bytes: Uint8Array, calibration: SampleSet, opts: StaticQuantizeOptions = {}): Promise<QuantizedModel> {
  const { model, notes, normalised } = prepareForQuantization(bytes);
  const input = singleModelInput(signatureOf(model));
  const samples = toSamples(calibration, input.shape, input.dtype);
  if (normalised) await checkNormalised(bytes, normalised, input, samples);
  const graph = model.graph!;
  // Calibration covers every tensor the full plan quantizes, so ranges (and the noise ranking) are the same whichever
  // ops are left float, and one calibration serves every mixed-precision candidate.
  const full = planQdq(graph);
  const floatNodes = opts.floatNodes ?? new Map<string, string>();
  const plan = floatNodes.size ? planQdq(graph, new Set(floatNodes.keys())) : full;
  if (full.weighted.length === 0) {
    throw new QuantizeError('QUANT_NOTHING_TO_QUANTIZE', 'the model has no Conv, Gemm or MatMul with constant float weights to quantize');
  }
  const owners = [...new Set(full.tensors.values())];
  // Bias correction needs each weighted op's mean input per channel: NCHW channels for Conv, the last axis for Gemm/MatMul.
  const meansOf = opts.biasCorrection
    ? new Map(plan.weighted.map((w) => [w.node.input?.[0] ?? '', w.node.opType === 'Conv' ? (1 as const) : (-1 as const)]))
    : new Map<string, 1 | -1>();
  const calibrated = opts.calibrated ?? (await calibrateRanges(model, input.name, input.shape, owners, samples, opts.calibration, meansOf));
  const { ranges, noise, applied } = calibrated;
  const keep = opts.keepFloat ?? new Map<string, string>();
  const producers = new Map((graph.node ?? []).flatMap((n) => (n.output ?? []).map((o) => [o, n.opType ?? ''] as const)));
  const planned = new Set(plan.tensors.values());
  const keptFloat: KeptFloat[] = [
    ...[...keep]
      .filter(([t]) => planned.has(t))
      .map(([tensor, reason]) => ({ tensor, op: producers.get(tensor) ?? 'graph input', reason })),
    ...(graph.node ?? [])
      .filter((n) => floatNodes.has(nodeKey(n)))
      .map((n) => ({ tensor: n.input?.[1] ?? '', op: n.opType ?? '', node: nodeKey(n), reason: floatNodes.get(nodeKey(n))! })),
  ];
  const mixed = withoutActivations(graph, plan, new Set(keep.keys()));
  // Found before insertQdq, while a table tied to a MatMul weight is still read by that MatMul (and so stays float).
  const tables = findEmbeddingTables(graph);
  const quantizedWeights = insertQdq(graph, mixed, ranges, {
    weightQmax: opts.weightQmax,
    weightType: opts.weightType,
    channelMeans: opts.biasCorrection ? calibrated.channelMeans : undefined,
  });
  const quantizedEmbeddings = quantizeEmbeddingTables(graph, tables);
  pruneUnused(graph);
  const compacted = compactGraph(graph);
  const out = encodeModel(model);
  const session = await openSession(out);
  await session.release();
  return {
    bytes: out,
    mode: 'static',
    calibration: applied,
    quantizedWeights,
    quantizedEmbeddings,
    weightType: opts.weightType ?? 'int8',
    quantizedActivations: mixed.tensors.size,
    floatOps: mixed.floatOps,
    notes: [...notes, compactNote(compacted)],
    keptFloat,
    sensitivity: owners.map((tensor) => ({ tensor, noiseRatio: noise.get(tensor) ?? 0 })).sort((a, b) => b.noiseRatio - a.noiseRatio),
    calibrated,
  };
}

/** The normaliser's rewrites are trusted only once the float model computes what the original does on calibration data. */
export async function checkNormalised(
  original: Uint8Array,
  normalised: { bytes: Uint8Array; ops: string[] },
  input: { name: string; shape: (number | null)[] },
  samples: Samples,
): Promise<void> {
  const batch = batchSizeFor(input.shape, 8);
  const feeds: Record<string, ort.Tensor>[] = [];
  for (let start = 0; start < Math.min(samples.count, 32); start += batch) {
    const { data, dims } = sliceBatch(samples, start, batch);
    if (dims[0] === batch || input.shape[0] === null) feeds.push({ [input.name]: inputTensor(samples.dtype, data, dims) });
  }
  await verifyUpgrade(original, normalised.bytes, feeds, normalised.ops);
}

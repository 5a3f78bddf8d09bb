// Static int8 quantization in QDQ form: calibrated uint8 activations, int8 per-channel weights, int32 biases.
import { encodeModel, pruneUnused } from '@flotilla/firmware-bundler/onnx';
import { QuantizeError } from '../convert-error.ts';
import { signatureOf, singleFloatInput } from '../onnx-signature.ts';
import { openSession } from '../ort-runner.ts';
import { toSamples, type SampleSet } from '../samples.ts';
import { calibrateRanges, type AppliedCalibration, type CalibrationSettings } from './calibrate.ts';
import { insertQdq } from './insert-qdq.ts';
import { prepareForQuantization } from './prepare-graph.ts';
import { planQdq } from './qdq-plan.ts';

/** A quantized model and how it was made. */
export interface QuantizedModel {
  /** The int8 model (ONNX bytes). */
  bytes: Uint8Array;
  mode: 'static' | 'dynamic';
  /** Calibration as applied (static mode only). */
  calibration?: AppliedCalibration;
  /** Weights stored as int8. */
  quantizedWeights: number;
  /** Activation tensors with a QuantizeLinear/DequantizeLinear pair (static mode). */
  quantizedActivations: number;
  /** Op types left computing in float (softmax, final ops, recurrent cells, ...). */
  floatOps: string[];
  /** Preparation steps applied (opset upgrade, BatchNorm folding, ...). */
  notes: string[];
}

/** Options of {@link quantizeStatic}. */
export interface StaticQuantizeOptions {
  calibration?: CalibrationSettings;
  /**
   * Largest |int8 weight|; default 63, exact on every CPU. 127 exists only so the benchmark can show what
   * the default costs: such a model saturates on x86 CPUs without VNNI, and the parity gate refuses it.
   */
  weightQmax?: number;
}

/**
 * Quantizes any float32 ONNX model (exported or imported) statically. `calibration` is a sample of the
 * training split. Refuses (QuantizeError) models it cannot quantize correctly; the result always loads in
 * onnxruntime-node, which is checked before returning.
 */
export async function quantizeStatic(bytes: Uint8Array, calibration: SampleSet, opts: StaticQuantizeOptions = {}): Promise<QuantizedModel> {
  const { model, notes } = prepareForQuantization(bytes);
  const input = singleFloatInput(signatureOf(model));
  const samples = toSamples(calibration, input.shape);
  const graph = model.graph!;
  const plan = planQdq(graph);
  if (plan.weighted.length === 0) {
    throw new QuantizeError('QUANT_NOTHING_TO_QUANTIZE', 'the model has no Conv, Gemm or MatMul with constant float weights to quantize');
  }
  const owners = [...new Set(plan.tensors.values())];
  const { ranges, applied } = await calibrateRanges(model, input.name, input.shape, owners, samples, opts.calibration);
  const quantizedWeights = insertQdq(graph, plan, ranges, opts.weightQmax);
  pruneUnused(graph);
  const out = encodeModel(model);
  const session = await openSession(out);
  await session.release();
  return {
    bytes: out,
    mode: 'static',
    calibration: applied,
    quantizedWeights,
    quantizedActivations: plan.tensors.size,
    floatOps: plan.floatOps,
    notes,
  };
}

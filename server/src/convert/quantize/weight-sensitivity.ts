// Ranks a model's weighted ops by how much rounding their weights alone moves the model's output: the order in which
// weight-level mixed precision leaves whole ops float (choose-calibration.ts) when the weights, not the activations,
// keep a model from the parity gate.
import * as ort from 'onnxruntime-node';
import { encodeModel, makeTensor, readTensorAsFloat32, type ModelProto } from '@flotilla/firmware-bundler/onnx';
import { signatureOf, singleModelInput } from '../onnx-signature.ts';
import { batchSizeFor, openSession, runInBatches } from '../ort-runner.ts';
import { takeSamples, type Samples } from '../samples.ts';
import { findWeightedOps, nodeKey } from './qdq-plan.ts';
import { quantizeWeightPerChannel, quantizeWeightPerChannelU8, WEIGHT_QMAX, type WeightType } from './quant-math.ts';

/** How much one op's weight rounding alone moves the model's outputs. */
export interface WeightSensitivity {
  /** The op's first output (qdq-plan.ts `nodeKey`). */
  node: string;
  op: string;
  weight: string;
  /** Weight values (the op's share of the int8 size saving). */
  params: number;
  /** Relative L2 of the outputs against float with only this op's weights rounded, mean over float outputs. */
  relativeL2: number;
}

/** Rows used at most: the ranking needs the ordering of a few dozen layers, not a precise figure. */
const MAX_ROWS = 64;

/**
 * For each weighted op of the prepared `model`, the output error when its weights alone are rounded as `weightType`
 * stores them (dequantized back to float in place, every other weight and every activation float), measured with
 * onnxruntime-node on the calibration samples; most sensitive first. Noise from different layers adds roughly
 * independently at the output, so the ops at the top of this list are the few whose float weights buy most accuracy.
 */
export async function weightSensitivity(
  model: ModelProto,
  samples: Samples,
  weightType: WeightType,
  weightQmax = WEIGHT_QMAX,
): Promise<WeightSensitivity[]> {
  const graph = model.graph!;
  const input = singleModelInput(signatureOf(model));
  const rows = takeSamples(samples, MAX_ROWS);
  const outputs = (graph.output ?? []).filter((o) => o.type?.tensorType?.elemType === 1).map((o) => o.name ?? '');
  const run = async (bytes: Uint8Array): Promise<Float32Array[][]> => {
    const session = await openSession(bytes);
    const got: Float32Array[][] = [];
    await runInBatches(
      session,
      input.name,
      rows,
      batchSizeFor(input.shape, 32),
      typeof input.shape[0] === 'number',
      (o) => got.push(outputs.map((n) => (o[n] as ort.Tensor).data as Float32Array)),
      outputs,
    );
    await session.release();
    return got;
  };
  const reference = await run(encodeModel(model));
  const inits = graph.initializer ?? [];
  const result: WeightSensitivity[] = [];
  for (const w of findWeightedOps(graph).values()) {
    const name = w.node.input?.[1] ?? '';
    const at = inits.findIndex((t) => t.name === name);
    if (at < 0) continue;
    const t = inits[at]!;
    const dims = t.dims ?? [];
    const float = readTensorAsFloat32(t);
    const q =
      weightType === 'uint8'
        ? quantizeWeightPerChannelU8(float, dims, w.weightAxis)
        : quantizeWeightPerChannel(float, dims, w.weightAxis, weightQmax);
    const zero = weightType === 'uint8' ? 128 : 0;
    const inner = dims.slice(w.weightAxis + 1).reduce((a, b) => a * b, 1);
    const channels = dims[w.weightAxis]!;
    const rounded = Float32Array.from(q.values, (v, i) => (v - zero) * q.scales[Math.floor(i / inner) % channels]!);
    // A shallow copy with the one initializer swapped: the other tensors are shared, not copied.
    const copy: ModelProto = {
      ...model,
      graph: { ...graph, initializer: inits.map((x, i) => (i === at ? makeTensor(name, dims, rounded) : x)) },
    };
    const got = await run(encodeModel(copy));
    result.push({
      node: nodeKey(w.node),
      op: w.node.opType ?? '',
      weight: name,
      params: float.length,
      relativeL2: meanRelativeL2(reference, got),
    });
  }
  return result.sort((a, b) => b.relativeL2 - a.relativeL2);
}

function meanRelativeL2(reference: Float32Array[][], got: Float32Array[][]): number {
  const outs = reference[0]?.length ?? 0;
  if (outs === 0) return 0;
  let sum = 0;
  for (let o = 0; o < outs; o++) {
    let dd = 0;
    let ff = 0;
    reference.forEach((batch, b) => {
      const f = batch[o]!;
      const q = got[b]![o]!;
      for (let i = 0; i < f.length; i++) {
        dd += (f[i]! - q[i]!) ** 2;
        ff += f[i]! * f[i]!;
      }
    });
    sum += ff > 0 ? Math.sqrt(dd / ff) : Math.sqrt(dd);
  }
  return sum / outs;
}

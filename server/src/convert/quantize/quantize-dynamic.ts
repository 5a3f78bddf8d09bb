// Dynamic int8 quantization for dense models: DynamicQuantizeLinear + MatMulInteger, int8 per-column weights.
import {
  DataType,
  encodeModel,
  floatAttr,
  GraphIndex,
  intAttr,
  makeNode,
  makeTensor,
  pruneUnused,
  readTensorAsFloat32,
  type NodeProto,
  type TensorProto,
} from '@flotilla/firmware-bundler/onnx';
import { QuantizeError } from '../convert-error.ts';
import { openSession } from '../ort-runner.ts';
import { transpose2d } from '../tfjs-export/layer-info.ts';
import { prepareForQuantization } from './prepare-graph.ts';
import { compactGraph, compactNote } from './compact-graph.ts';
import { findWeightedOps } from './qdq-plan.ts';
import { quantizeWeightPerChannel } from './quant-math.ts';
import { signatureOf, singleModelInput } from '../onnx-signature.ts';
import { toSamples, type SampleSet } from '../samples.ts';
import { checkNormalised, type QuantizedModel, type StaticQuantizeOptions } from './quantize-static.ts';

/** Whether a model can be quantized dynamically: it has Gemm/MatMul weights and no convolutions. */
export function isDenseOnly(ops: Iterable<string>): boolean {
  const set = new Set(ops);
  return !set.has('Conv') && !set.has('ConvTranspose') && (set.has('Gemm') || set.has('MatMul'));
}

/**
 * Quantizes the weights of every Gemm/MatMul to int8 (per output column) and their inputs at run time
 * (DynamicQuantizeLinear, uint8), the pattern onnxruntime fuses into DynamicQuantizeMatMul. No calibration
 * is needed, but a model the normaliser rewrote (old opset, Constant weights) is checked on `samples` first.
 * Refuses models with convolutions (`QUANT_DYNAMIC_UNSUPPORTED`). `weightQmax` as in
 * {@link StaticQuantizeOptions}.
 */
export async function quantizeDynamic(
  bytes: Uint8Array,
  opts: Pick<StaticQuantizeOptions, 'weightQmax'> & { samples?: SampleSet } = {},
): Promise<QuantizedModel> {
  const { model, notes, normalised } = prepareForQuantization(bytes);
  if (normalised && normalised.ops.length > 0) {
    // Dynamic mode needs no calibration, but a rewritten graph (upgraded ops, folded constants) is trusted only
    // after it is checked on inputs; dropping Identity nodes or typing outputs changes nothing it computes.
    if (!opts.samples)
      throw new QuantizeError(
        'QUANT_BAD_CALIBRATION',
        `normalising the model rewrote ${normalised.ops.join(', ')}; give sample inputs so the rewrite can be checked against the original`,
      );
    const input = singleModelInput(signatureOf(model));
    await checkNormalised(bytes, normalised, input, toSamples(opts.samples, input.shape, input.dtype));
  }
  const graph = model.graph!;
  const ops = (graph.node ?? []).map((n) => n.opType ?? '');
  if (!isDenseOnly(ops)) {
    throw new QuantizeError(
      'QUANT_DYNAMIC_UNSUPPORTED',
      'dynamic quantization is for dense-only models (Gemm/MatMul, no Conv); use static quantization',
    );
  }
  const weighted = findWeightedOps(graph);
  if (weighted.size === 0) throw new QuantizeError('QUANT_NOTHING_TO_QUANTIZE', 'no Gemm or MatMul with constant float weights');
  const index = new GraphIndex(graph);
  const inits: TensorProto[] = [];
  const dynamicInputs = new Map<string, [string, string, string]>();
  const replacement = new Map<NodeProto, NodeProto[]>();
  for (const w of weighted.values()) {
    const n = w.node;
    const [a = '', bName = '', cName] = n.input ?? [];
    const y = n.output?.[0] ?? '';
    const prefix = n.name || y;
    const nodes: NodeProto[] = [];
    let q = dynamicInputs.get(a);
    if (!q) {
      q = [`${a}_quantized`, `${a}_scale`, `${a}_zero_point`];
      nodes.push(makeNode('DynamicQuantizeLinear', [a], q, {}, `${a}_DynamicQuantizeLinear`));
      dynamicInputs.set(a, q);
    }
    const bt = index.initializers.get(bName)!;
    let dims = bt.dims ?? [];
    let values = readTensorAsFloat32(bt);
    if (n.opType === 'Gemm' && intAttr(n, 'transB', 0)) {
      values = transpose2d(values, dims[0]!, dims[1]!);
      dims = [dims[1]!, dims[0]!];
    }
    const qw = quantizeWeightPerChannel(values, dims, 1, opts.weightQmax);
    inits.push(
      makeTensor(`${prefix}_W_quantized`, dims, qw.values),
      makeTensor(`${prefix}_W_scale`, [dims[1]!], qw.scales),
      makeTensor(`${prefix}_W_zero_point`, [dims[1]!], new Int8Array(dims[1]!)),
    );
    const hasBias = n.opType === 'Gemm' && !!cName;
    const scaledOut = hasBias ? `${prefix}_scaled` : y;
    nodes.push(
      makeNode(
        'MatMulInteger',
        [q[0], `${prefix}_W_quantized`, q[2], `${prefix}_W_zero_point`],
        [`${prefix}_int32`],
        {},
        `${prefix}_MatMulInteger`,
      ),
      makeNode('Cast', [`${prefix}_int32`], [`${prefix}_float`], { to: DataType.FLOAT }, `${prefix}_Cast`),
      makeNode('Mul', [q[1], `${prefix}_W_scale`], [`${prefix}_output_scale`], {}, `${prefix}_ScaleMul`),
      makeNode('Mul', [`${prefix}_float`, `${prefix}_output_scale`], [scaledOut], {}, `${prefix}_Mul`),
    );
    if (hasBias) {
      const beta = floatAttr(n, 'beta', 1);
      const c = index.initializers.get(cName!);
      let biasName = cName!;
      if (beta !== 1) {
        if (!c) throw new QuantizeError('QUANT_UNSUPPORTED_OP', `Gemm '${prefix}' has beta=${beta} with a non-constant C`);
        biasName = `${prefix}_C_scaled`;
        inits.push(
          makeTensor(
            biasName,
            c.dims ?? [],
            readTensorAsFloat32(c).map((v) => v * beta),
          ),
        );
      }
      nodes.push(makeNode('Add', [scaledOut, biasName], [y], {}, `${prefix}_BiasAdd`));
    }
    replacement.set(n, nodes);
  }
  graph.node = (graph.node ?? []).flatMap((n) => replacement.get(n) ?? [n]);
  graph.initializer = [...(graph.initializer ?? []), ...inits];
  pruneUnused(graph);
  notes.push(compactNote(compactGraph(graph)));
  const out = encodeModel(model);
  await (await openSession(out)).release();
  const floatOps = [
    ...new Set(
      graph.node
        .map((n) => n.opType ?? '')
        .filter((op) => !['DynamicQuantizeLinear', 'MatMulInteger', 'Cast', 'Mul', 'Identity'].includes(op)),
    ),
  ].sort();
  return { bytes: out, mode: 'dynamic', quantizedWeights: weighted.size, quantizedActivations: 0, floatOps, notes };
}

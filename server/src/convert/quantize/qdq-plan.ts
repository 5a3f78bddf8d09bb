// Decides where QuantizeLinear/DequantizeLinear pairs go so onnxruntime's int8 fusions apply and sensitive tensors stay float.
import {
  DataType,
  floatAttr,
  GraphIndex,
  intAttr,
  isDefaultDomain,
  readTensorAsFloat32,
  type GraphProto,
  type NodeProto,
} from '@flotilla/firmware-bundler/onnx';

/** A Conv, Gemm or MatMul whose weight becomes int8 (per output channel) and bias int32. */
export interface WeightedOp {
  node: NodeProto;
  /** Axis of the weight that indexes output channels. */
  weightAxis: number;
  /** Bias input name when it can be int32-quantized (1-D, one value per output channel). */
  bias?: string;
}

export interface QdqPlan {
  weighted: WeightedOp[];
  /** Activation tensor → the tensor whose calibrated range it uses (itself, or upstream for layout-only ops). */
  tensors: Map<string, string>;
  /** Ops left in float, by op type, for the report. */
  floatOps: string[];
}

/** Layout-only ops: onnxruntime drops their Q/DQ when input and output share scale and zero point. */
const PASS_THROUGH = new Set(['MaxPool', 'Reshape', 'Flatten', 'Transpose', 'Squeeze', 'Unsqueeze']);
/** Ops with onnxruntime QLinear kernels that take one quantized input and produce their own output range. */
const UNARY = new Set(['AveragePool', 'GlobalAveragePool', 'LeakyRelu', 'Sigmoid']);
/** Elementwise ops with QLinear kernels when every input is a quantized activation. */
const MULTI_INPUT = new Set(['Add', 'Mul', 'Concat']);
/** Consumers whose input is kept float: probabilities are sensitive to logit rounding. */
const SENSITIVE = new Set(['Softmax', 'LogSoftmax']);

/** Whether a node is a weighted op the quantizer handles, and how. */
function weightedOp(node: NodeProto, index: GraphIndex): WeightedOp | undefined {
  if (!isDefaultDomain(node)) return undefined;
  const [a = '', wName = '', bName] = node.input ?? [];
  const w = index.constant(wName);
  if (!w || w.dataType !== DataType.FLOAT || index.constant(a)) return undefined;
  const dims = w.dims ?? [];
  const biasFor = (channels: number): string | undefined | false => {
    if (!bName) return undefined;
    const b = index.constant(bName);
    if (!b || b.dataType !== DataType.FLOAT) return false;
    return readTensorAsFloat32(b).length === channels && (b.dims ?? []).length === 1 ? bName : false;
  };
  if (node.opType === 'Conv' && dims.length >= 3) {
    const bias = biasFor(dims[0]!);
    if (bias === false) return undefined;
    return { node, weightAxis: 0, ...(bias ? { bias } : {}) };
  }
  if (node.opType === 'Gemm' && dims.length === 2) {
    if (intAttr(node, 'transA', 0) !== 0 || floatAttr(node, 'alpha', 1) !== 1) return undefined;
    const axis = intAttr(node, 'transB', 0) ? 0 : 1;
    const bias = biasFor(dims[axis]!);
    // QGemm adds an int32 bias only with beta = 1; anything else stays float.
    if (bias === false || (bias && floatAttr(node, 'beta', 1) !== 1)) return undefined;
    return { node, weightAxis: axis, ...(bias ? { bias } : {}) };
  }
  if (node.opType === 'MatMul' && dims.length === 2) return { node, weightAxis: 1 };
  return undefined;
}

/** The key a weighted op is named by in `floatNodes` and the report: its first output (node names are optional). */
export const nodeKey = (node: NodeProto): string => node.output?.[0] ?? '';

/**
 * Every Conv, Gemm and MatMul of the graph whose weights the quantizer can make int8, except those in `floatNodes`
 * (by {@link nodeKey}), which stay float: weights, bias and, unless another quantized op reads it, input activation.
 */
export function findWeightedOps(graph: GraphProto, floatNodes: ReadonlySet<string> = new Set()): Map<NodeProto, WeightedOp> {
  const index = new GraphIndex(graph);
  const weighted = new Map<NodeProto, WeightedOp>();
  for (const n of graph.node ?? []) {
    if (floatNodes.has(nodeKey(n))) continue;
    const w = weightedOp(n, index);
    if (w) weighted.set(n, w);
  }
  return weighted;
}

/** Plans QDQ placement over a prepared (opset ≥ 13, BatchNorm-folded) graph; `floatNodes` as in {@link findWeightedOps}. */
export function planQdq(graph: GraphProto, floatNodes: ReadonlySet<string> = new Set()): QdqPlan {
  const index = new GraphIndex(graph);
  const weighted = findWeightedOps(graph, floatNodes);
  const isConst = (t: string) => index.constant(t) !== undefined;
  const feedsOutput = (n: NodeProto) => (n.output ?? []).some((o) => index.graphOutputs.has(o));
  // Final logits stay float: graph outputs, softmax inputs, and the input of a final activation (a sigmoid
  // head). A Conv/Gemm/MatMul that produces an output still takes int8 inputs; only its output is float.
  const floatKept = (t: string) =>
    index.graphOutputs.has(t) ||
    index
      .consumersOf(t)
      .some((c) => SENSITIVE.has(c.opType ?? '') || (feedsOutput(c) && !PASS_THROUGH.has(c.opType ?? '') && !weighted.has(c)));
  const quantConsumer = (c: NodeProto, t: string): boolean => {
    if (!isDefaultDomain(c)) return false;
    const op = c.opType ?? '';
    if (weighted.has(c) || PASS_THROUGH.has(op)) return c.input?.[0] === t;
    if (UNARY.has(op)) return true;
    return MULTI_INPUT.has(op) && (c.input ?? []).every((i) => !isConst(i));
  };
  const wantsOutput = (t: string) =>
    !floatKept(t) && index.consumersOf(t).length > 0 && index.consumersOf(t).every((c) => quantConsumer(c, t));
  const absorbable = (c: NodeProto) => {
    if (!isDefaultDomain(c)) return false;
    if (c.opType === 'Relu') return true;
    if (c.opType !== 'Clip') return false;
    const min = index.constant(c.input?.[1] ?? '');
    const max = index.constant(c.input?.[2] ?? '');
    return !!min && !!max && readTensorAsFloat32(min)[0] === 0 && readTensorAsFloat32(max)[0]! > 0;
  };

  const tensors = new Map<string, string>();
  const own = (t: string) => {
    if (!tensors.has(t) && !isConst(t)) tensors.set(t, t);
  };
  for (const n of graph.node ?? []) {
    const op = n.opType ?? '';
    const x = n.input?.[0] ?? '';
    const y = n.output?.[0] ?? '';
    if (weighted.has(n)) {
      if (!floatKept(x)) own(x);
      const users = index.consumersOf(y);
      const next = users[0];
      // A Relu or Clip(0, max) between the op and its QuantizeLinear is folded away by onnxruntime when the
      // zero point is 0, so the range is taken after the activation and no QDQ goes in between.
      if (users.length === 1 && next && absorbable(next) && !index.graphOutputs.has(y)) {
        const z = next.output?.[0] ?? '';
        if (wantsOutput(z)) own(z);
      } else if (wantsOutput(y)) own(y);
    } else if (isDefaultDomain(n) && PASS_THROUGH.has(op) && tensors.has(x)) {
      if (!floatKept(y)) tensors.set(y, tensors.get(x)!);
    } else if (isDefaultDomain(n) && UNARY.has(op) && tensors.has(x)) {
      if (wantsOutput(y)) own(y);
    } else if (isDefaultDomain(n) && MULTI_INPUT.has(op) && (n.input ?? []).some((i) => tensors.has(i)) && wantsOutput(y)) {
      if ((n.input ?? []).every((i) => !isConst(i))) {
        for (const i of n.input ?? []) own(i);
        own(y);
      }
    }
  }
  return { weighted: [...weighted.values()], tensors, floatOps: floatOpsOf(graph, weighted, tensors) };
}

/** Op types that compute in float under a plan: neither weighted nor absorbed, nor between quantized tensors. */
function floatOpsOf(graph: GraphProto, weighted: Map<NodeProto, WeightedOp>, tensors: Map<string, string>): string[] {
  const index = new GraphIndex(graph);
  const absorbed = new Set<NodeProto>();
  for (const w of weighted.values()) {
    const users = index.consumersOf(w.node.output?.[0] ?? '');
    if (
      users.length === 1 &&
      users[0]!.opType !== undefined &&
      ['Relu', 'Clip'].includes(users[0]!.opType) &&
      tensors.has(users[0]!.output?.[0] ?? '')
    )
      absorbed.add(users[0]!);
  }
  const floatOps = new Set<string>();
  for (const n of graph.node ?? []) {
    const op = n.opType ?? '';
    if (weighted.has(n) || absorbed.has(n)) continue;
    const quantized = (n.output ?? []).some((o) => tensors.has(o)) && (n.input ?? []).some((i) => tensors.has(i));
    if (!quantized && op !== 'Identity') floatOps.add(op);
  }
  return [...floatOps].sort();
}

/**
 * The plan with the activations calibrated as `owners` left float (mixed precision): their QuantizeLinear/
 * DequantizeLinear pairs go, along with those of layout-only ops that share their range. Any subset of pairs is a
 * valid QDQ model; onnxruntime runs the ops next to a float tensor in float on dequantized values.
 */
export function withoutActivations(graph: GraphProto, plan: QdqPlan, owners: ReadonlySet<string>): QdqPlan {
  if (owners.size === 0) return plan;
  const tensors = new Map([...plan.tensors].filter(([, owner]) => !owners.has(owner)));
  const weighted = new Map(plan.weighted.map((w) => [w.node, w]));
  return { weighted: plan.weighted, tensors, floatOps: floatOpsOf(graph, weighted, tensors) };
}

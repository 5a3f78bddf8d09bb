// Rewrites MatMul + Add(bias) on matrices as one Gemm, the form onnxruntime quantizes into a single QGemm.
import {
  GraphIndex,
  isDefaultDomain,
  makeNode,
  readTensorAsFloat32,
  valueInfoDims,
  type GraphProto,
} from '@flotilla/firmware-bundler/onnx';

/** Ops whose output has the rank of their first input. */
const RANK_PRESERVING = new Set([
  'Relu',
  'LeakyRelu',
  'Sigmoid',
  'Tanh',
  'Clip',
  'Elu',
  'Selu',
  'HardSigmoid',
  'Softmax',
  'LogSoftmax',
  'Softplus',
  'Softsign',
  'Identity',
  'Dropout',
  'BatchNormalization',
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Erf',
  'Abs',
  'Neg',
  'Sqrt',
  'Exp',
  'QuantizeLinear',
  'DequantizeLinear',
  'PRelu',
  'ThresholdedRelu',
]);

/** Ranks of the tensors we can tell without running the model (declared shapes, then propagation). */
export function knownRanks(graph: GraphProto): Map<string, number> {
  const ranks = new Map<string, number>();
  for (const vi of [...(graph.input ?? []), ...(graph.valueInfo ?? []), ...(graph.output ?? [])]) {
    const dims = valueInfoDims(vi);
    if (dims && vi.name) ranks.set(vi.name, dims.length);
  }
  for (const t of graph.initializer ?? []) ranks.set(t.name ?? '', (t.dims ?? []).length);
  for (const n of graph.node ?? []) {
    const out = n.output?.[0] ?? '';
    if (ranks.has(out) || !isDefaultDomain(n)) continue;
    const r0 = ranks.get(n.input?.[0] ?? '');
    if (n.opType === 'Gemm' || n.opType === 'Flatten') ranks.set(out, 2);
    else if (n.opType === 'MatMul' && r0 !== undefined && ranks.get(n.input?.[1] ?? '') === 2) ranks.set(out, r0);
    else if (RANK_PRESERVING.has(n.opType ?? '') && r0 !== undefined) ranks.set(out, r0);
  }
  return ranks;
}

/** Fuses every MatMul(A, W) → Add(bias) where A is a matrix, W and bias constants; returns how many. */
export function fuseMatMulAdd(graph: GraphProto): number {
  const ranks = knownRanks(graph);
  let fused = 0;
  for (const mm of [...(graph.node ?? [])]) {
    if (mm.opType !== 'MatMul' || !isDefaultDomain(mm)) continue;
    const index = new GraphIndex(graph);
    const [a = '', w = ''] = mm.input ?? [];
    const y = mm.output?.[0] ?? '';
    const weight = index.constant(w);
    const users = index.consumersOf(y);
    const add = users[0];
    if (!weight || (weight.dims ?? []).length !== 2 || ranks.get(a) !== 2 || users.length !== 1 || index.graphOutputs.has(y)) continue;
    if (!add || add.opType !== 'Add' || !isDefaultDomain(add)) continue;
    const biasName = add.input?.[0] === y ? add.input?.[1] : add.input?.[0];
    const bias = biasName ? index.constant(biasName) : undefined;
    if (!bias || (bias.dims ?? []).length !== 1 || readTensorAsFloat32(bias).length !== weight.dims![1]) continue;
    const gemm = makeNode('Gemm', [a, w, biasName!], [add.output?.[0] ?? ''], {}, mm.name ? `${mm.name}_gemm` : undefined);
    graph.node = graph.node!.flatMap((n) => (n === mm ? [gemm] : n === add ? [] : [n]));
    fused++;
  }
  return fused;
}

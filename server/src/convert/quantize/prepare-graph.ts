// Checks and normalizes a float model before quantization: refusals, the toolkit's normaliser (opset upgrade to 13,
// Constant nodes → initializers, constant folding, Identity/Dropout removal), BatchNorm folding, MatMul + Add fusion.
import {
  DataType,
  decodeModel,
  encodeModel,
  floatAttr,
  GraphIndex,
  intAttr,
  isDefaultDomain,
  makeTensor,
  normalizeModel,
  pruneUnused,
  readTensorAsFloat32,
  UpgradeError,
  type GraphProto,
  type ModelProto,
  type NodeProto,
} from '@flotilla/firmware-bundler/onnx';
import { ConvertError, QuantizeError } from '../convert-error.ts';
import { fuseMatMulAdd } from './fuse-matmul-add.ts';

/** Ops that mean the model is already quantized. */
const QUANTIZED_OPS = new Set([
  'QuantizeLinear',
  'DequantizeLinear',
  'DynamicQuantizeLinear',
  'QLinearConv',
  'QLinearMatMul',
  'MatMulInteger',
  'ConvInteger',
  'QGemm',
  'QLinearAdd',
  'QLinearMul',
  'DynamicQuantizeMatMul',
  'MatMulIntegerToFloat',
]);
/** Domains whose ops onnxruntime's CPU provider implements. */
const KNOWN_DOMAINS = new Set(['', 'ai.onnx', 'ai.onnx.ml', 'com.microsoft']);

export interface PreparedModel {
  model: ModelProto;
  /** What was changed, for the report. */
  notes: string[];
  /**
   * The normalised float model and the ops it rewrote, when the normaliser changed anything; callers with
   * inputs check it against the original (server/src/convert/upgrade/verify-upgrade.ts) before trusting it.
   */
  normalised?: { bytes: Uint8Array; ops: string[] };
}

/**
 * Decodes a float model and makes it ready for QDQ insertion, or refuses with `QUANT_UNSUPPORTED_OP`,
 * `QUANT_OPSET_TOO_OLD` or `ONNX_INVALID`: a refusal is better than an int8 model that computes something else.
 */
export function prepareForQuantization(bytes: Uint8Array): PreparedModel {
  let model: ModelProto;
  try {
    model = decodeModel(bytes);
  } catch (err) {
    throw new ConvertError('ONNX_INVALID', `not an ONNX model: ${(err as Error).message}`);
  }
  const graph = model.graph;
  if (!graph?.node?.length) throw new ConvertError('ONNX_INVALID', 'the model has no graph nodes');
  refuseUnsupported(graph);
  const { notes, normalised } = normalize(model);
  const folded = foldBatchNorms(graph);
  if (folded) notes.push(`folded ${folded} BatchNormalization node(s) into the preceding Conv/Gemm`);
  const gemms = fuseMatMulAdd(graph);
  if (gemms) notes.push(`fused ${gemms} MatMul + Add pair(s) into Gemm`);
  pruneUnused(graph);
  return { model, notes, ...(normalised ? { normalised } : {}) };
}

/** Runs the toolkit's normaliser; its refusal (an op that cannot be carried over to opset 13) keeps the quantizer's code. */
function normalize(model: ModelProto): { notes: string[]; normalised?: PreparedModel['normalised'] } {
  try {
    const r = normalizeModel(model);
    if (!r.notes.length) return { notes: [] };
    const ops = [...new Set([...r.upgrade.rewritten, ...(r.fold.folded || r.fold.constantNodes ? ['Constant folding'] : [])])];
    return { notes: r.notes, normalised: { bytes: encodeModel(model), ops } };
  } catch (err) {
    if (!(err instanceof UpgradeError)) throw err;
    throw new QuantizeError('QUANT_OPSET_TOO_OLD', `${err.message}; convert the model to opset 13 first`, {
      opset: err.fromOpset,
      op: err.op,
      reason: err.reason,
    });
  }
}

function refuseUnsupported(graph: GraphProto): void {
  for (const n of graph.node ?? []) {
    const op = n.opType ?? '';
    if (!KNOWN_DOMAINS.has(n.domain ?? '')) {
      throw new QuantizeError(
        'QUANT_UNSUPPORTED_OP',
        `op ${n.domain}.${op} is a custom op; the quantizer only handles ONNX and onnxruntime ops`,
        { op, domain: n.domain },
      );
    }
    if (QUANTIZED_OPS.has(op))
      throw new QuantizeError('QUANT_UNSUPPORTED_OP', `the model is already quantized (it contains ${op})`, { op });
    if ((n.attribute ?? []).some((a) => a.g || a.graphs?.length)) {
      throw new QuantizeError('QUANT_UNSUPPORTED_OP', `op ${op} has a subgraph (control flow); the quantizer does not rewrite subgraphs`, {
        op,
      });
    }
  }
  for (const vi of [...(graph.input ?? []), ...(graph.output ?? [])]) {
    const t = vi.type?.tensorType?.elemType;
    if (t === DataType.FLOAT16 || t === DataType.BFLOAT16 || t === DataType.DOUBLE) {
      throw new QuantizeError('QUANT_UNSUPPORTED_OP', `input/output '${vi.name}' is not float32; quantize the float32 model`, {
        tensor: vi.name,
      });
    }
  }
}

/** y = x·s + t with s = γ/√(σ²+ε), t = β − μ·s, folded into the weights of the Conv or Gemm that feeds BatchNormalization. */
function foldBatchNorms(graph: GraphProto): number {
  let folded = 0;
  for (const bn of [...(graph.node ?? [])]) {
    if (bn.opType !== 'BatchNormalization' || !isDefaultDomain(bn) || (bn.output?.length ?? 0) > 1) continue;
    const index = new GraphIndex(graph);
    const x = bn.input?.[0] ?? '';
    const producer = index.producers.get(x);
    if (!producer || index.consumersOf(x).length !== 1 || index.graphOutputs.has(x)) continue;
    const params = (bn.input ?? []).slice(1).map((name) => index.constant(name));
    if (params.length !== 4 || params.some((p) => !p)) continue;
    const [gamma, beta, mean, variance] = params.map((p) => readTensorAsFloat32(p!));
    const eps = floatAttr(bn, 'epsilon', 1e-5);
    const s = gamma!.map((g, c) => g / Math.sqrt(variance![c]! + eps));
    const t = beta!.map((b, c) => b - mean![c]! * s[c]!);
    if (!foldInto(graph, index, producer, s, t)) continue;
    producer.output = [bn.output?.[0] ?? ''];
    graph.node = graph.node!.filter((n) => n !== bn);
    folded++;
  }
  return folded;
}

function foldInto(graph: GraphProto, index: GraphIndex, node: NodeProto, s: Float32Array, t: Float32Array): boolean {
  const w = index.constant(node.input?.[1] ?? '');
  const bName = node.input?.[2];
  const b = bName ? index.constant(bName) : undefined;
  if (!w || (bName && !b) || w.dataType !== DataType.FLOAT) return false;
  const dims = w.dims ?? [];
  const c = s.length;
  let axis: number;
  if (node.opType === 'Conv' && isDefaultDomain(node) && dims[0] === c) axis = 0;
  else if (
    node.opType === 'Gemm' &&
    isDefaultDomain(node) &&
    dims.length === 2 &&
    intAttr(node, 'transA', 0) === 0 &&
    floatAttr(node, 'alpha', 1) === 1 &&
    floatAttr(node, 'beta', 1) === 1
  ) {
    axis = intAttr(node, 'transB', 0) ? 0 : 1;
    if (dims[axis] !== c) return false;
  } else return false;
  if (b && (b.dims ?? []).reduce((p, q) => p * q, 1) !== c) return false;
  const wv = readTensorAsFloat32(w);
  const inner = dims.slice(axis + 1).reduce((p, q) => p * q, 1);
  const scaled = wv.map((v, i) => v * s[Math.floor(i / inner) % c]!);
  const bias = b ? readTensorAsFloat32(b) : new Float32Array(c);
  const newBias = bias.map((v, i) => v * s[i]! + t[i]!);
  const wName = `${w.name}_bn_folded`;
  const bNameNew = `${bName || w.name}_bn_folded_bias`;
  graph.initializer = [...(graph.initializer ?? []), makeTensor(wName, dims, scaled), makeTensor(bNameNew, [c], newBias)];
  node.input = [node.input?.[0] ?? '', wName, bNameNew];
  return true;
}

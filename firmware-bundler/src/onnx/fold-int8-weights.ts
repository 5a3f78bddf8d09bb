// Load-time adapter for runtimes whose int8 kernels are slow (onnxruntime-web on wasm): int8 weights back to float.
import { encodeModel, decodeModel } from './onnx-codec.ts';
import { DataType, type GraphProto, type NodeProto, type TensorProto } from './onnx-types.ts';
import { GraphIndex, intAttr, isDefaultDomain } from './graph-query.ts';
import { pruneUnused } from './graph-prune.ts';
import { elementCount, makeTensor, readTensor, readTensorAsFloat32 } from './tensor-data.ts';

/** Options of {@link foldInt8Weights}. */
export interface FoldInt8Options {
  /**
   * Keep the QuantizeLinear→DequantizeLinear pairs on activations. Default false: they are removed and the
   * model runs float kernels on int8-rounded weights. When kept, activations keep their int8 rounding, but
   * onnxruntime (1.20+, WeightBiasQuantization) sees DQ→Gemm/Conv with float weights and quantizes the
   * weights again at load, per tensor, so the model runs int8 kernels that were never validated.
   */
  keepActivationQdq?: boolean;
}

/** What {@link foldInt8WeightsWithStats} changed. */
export interface FoldInt8Stats {
  /** Constant DequantizeLinear nodes replaced by float initializers. */
  foldedWeights: number;
  /** Activation QuantizeLinear→DequantizeLinear pairs removed (none with `keepActivationQdq`). */
  strippedActivationPairs: number;
}

const QUANTIZED_TYPES: ReadonlySet<number> = new Set([DataType.INT8, DataType.UINT8, DataType.INT32, DataType.INT16, DataType.UINT16]);

/** Dequantizes one constant: `(x - zeroPoint) * scale`, per tensor or per slice along `axis`. */
function dequantize(x: TensorProto, scale: TensorProto, zeroPoint: TensorProto | undefined, axis: number): Float32Array {
  const q = readTensor(x);
  const s = readTensorAsFloat32(scale);
  const zp = zeroPoint ? readTensorAsFloat32(zeroPoint) : new Float32Array(s.length);
  const dims = x.dims ?? [];
  const out = new Float32Array(q.length);
  if (s.length === 1) {
    const s0 = s[0]!;
    const z0 = zp[0] ?? 0;
    for (let i = 0; i < q.length; i++) out[i] = (Number(q[i]) - z0) * s0;
    return out;
  }
  const ax = axis < 0 ? axis + dims.length : axis;
  const channels = dims[ax] ?? 0;
  const inner = elementCount(dims.slice(ax + 1));
  for (let i = 0; i < q.length; i++) {
    const c = Math.floor(i / inner) % channels;
    out[i] = (Number(q[i]) - zp[c]!) * s[c]!;
  }
  return out;
}

function foldConstantDequantize(graph: GraphProto): number {
  const index = new GraphIndex(graph);
  const removed = new Set<NodeProto>();
  const added: TensorProto[] = [];
  for (const node of graph.node ?? []) {
    if (node.opType !== 'DequantizeLinear' || !isDefaultDomain(node)) continue;
    if (intAttr(node, 'block_size', 0) > 0) continue;
    const [xName = '', sName = '', zName = ''] = node.input ?? [];
    const x = index.constant(xName);
    const s = index.constant(sName);
    const z = zName ? index.constant(zName) : undefined;
    if (!x || !s || (zName && !z) || !QUANTIZED_TYPES.has(x.dataType ?? 0)) continue;
    const out = node.output?.[0];
    if (!out) continue;
    added.push(makeTensor(out, x.dims ?? [], dequantize(x, s, z, intAttr(node, 'axis', 1))));
    removed.add(node);
  }
  if (removed.size === 0) return 0;
  graph.node = (graph.node ?? []).filter((n) => !removed.has(n));
  graph.initializer = [...(graph.initializer ?? []), ...added];
  pruneUnused(graph);
  return removed.size;
}

function stripActivationPairs(graph: GraphProto): number {
  const index = new GraphIndex(graph);
  const rename = new Map<string, string>();
  const removed = new Set<NodeProto>();
  for (const q of graph.node ?? []) {
    if (q.opType !== 'QuantizeLinear' || !isDefaultDomain(q)) continue;
    const qOut = q.output?.[0] ?? '';
    const qIn = q.input?.[0] ?? '';
    if (index.graphOutputs.has(qOut) || index.constant(qIn)) continue;
    const users = index.consumersOf(qOut);
    const pairs = users.every(
      (d) => d.opType === 'DequantizeLinear' && isDefaultDomain(d) && d.input?.[1] === q.input?.[1] && d.input?.[2] === q.input?.[2],
    );
    if (!users.length || !pairs) continue;
    removed.add(q);
    for (const d of users) {
      removed.add(d);
      rename.set(d.output?.[0] ?? '', qIn);
    }
  }
  if (removed.size === 0) return 0;
  const resolve = (name: string) => {
    let n = name;
    while (rename.has(n)) n = rename.get(n)!;
    return n;
  };
  graph.node = (graph.node ?? []).filter((n) => !removed.has(n));
  for (const n of graph.node) n.input = (n.input ?? []).map(resolve);
  // A dequantized value that was a graph output keeps its name through an Identity.
  for (const o of graph.output ?? []) {
    const src = resolve(o.name ?? '');
    if (src !== o.name) graph.node.push({ opType: 'Identity', input: [src], output: [o.name ?? ''] });
  }
  pruneUnused(graph);
  return removed.size / 2;
}

/** Like {@link foldInt8Weights}, also reporting what was folded. */
export function foldInt8WeightsWithStats(modelBytes: Uint8Array, opts: FoldInt8Options = {}): { bytes: Uint8Array; stats: FoldInt8Stats } {
  const model = decodeModel(modelBytes);
  const graph = model.graph ?? {};
  const foldedWeights = foldConstantDequantize(graph);
  const strippedActivationPairs = opts.keepActivationQdq ? 0 : stripActivationPairs(graph);
  return { bytes: encodeModel(model), stats: { foldedWeights, strippedActivationPairs } };
}

/**
 * Replaces every DequantizeLinear of a constant int8/uint8/int32 initializer with the float initializer it
 * computes, and (by default) removes activation QDQ pairs, so the model downloads int8-sized but runs float
 * kernels: for runtimes whose int8 kernels are slow, such as onnxruntime-web on wasm at batch 1. Graph
 * inputs and outputs are unchanged; a model without quantized constants comes back re-encoded but equivalent.
 */
export function foldInt8Weights(modelBytes: Uint8Array, opts: FoldInt8Options = {}): Uint8Array {
  return foldInt8WeightsWithStats(modelBytes, opts).bytes;
}

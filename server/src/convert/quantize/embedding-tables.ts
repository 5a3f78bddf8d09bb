// Embedding tables stored as 8-bit rows. A Gather from a constant float [rows, width] matrix by computed indices (token
// ids, category ids) is a lookup no int8 kernel reads, so the plan leaves it float; in a text model it is often the
// largest tensor (BERT-base: 23M of its 110M weights), and the corpus token encoder's float tables kept its int8 file at
// 38-43% of float.
import {
  DataType,
  GraphIndex,
  intAttr,
  isDefaultDomain,
  makeNode,
  makeTensor,
  readTensorAsFloat32,
  type GraphProto,
  type NodeProto,
  type TensorProto,
} from '@flotilla/firmware-bundler/onnx';
import { quantizeWeightPerChannelU8 } from './quant-math.ts';

/** Smaller tables stay float: their per-row scales and the four extra nodes would cost about what the bytes save. */
export const MIN_TABLE_VALUES = 256;

/** A constant float table that only Gathers read, row by row. */
export interface EmbeddingTable {
  table: TensorProto;
  gathers: NodeProto[];
}

/**
 * Tables worth storing as 8-bit rows: a float rank-2 initializer of at least {@link MIN_TABLE_VALUES} values whose
 * every reader is a default-domain Gather on axis 0 with computed indices. A table another op also reads (an output
 * projection tied to the embedding, a MatMul) is not one: it stays float for that op.
 */
export function findEmbeddingTables(graph: GraphProto): EmbeddingTable[] {
  const index = new GraphIndex(graph);
  const tables: EmbeddingTable[] = [];
  for (const t of graph.initializer ?? []) {
    const name = t.name ?? '';
    const dims = t.dims ?? [];
    if (t.dataType !== DataType.FLOAT || dims.length !== 2 || dims[0]! * dims[1]! < MIN_TABLE_VALUES) continue;
    if (!index.constant(name) || index.graphOutputs.has(name)) continue;
    const readers = index.consumersOf(name);
    const lookups = readers.every(
      (n) =>
        isDefaultDomain(n) &&
        n.opType === 'Gather' &&
        n.input?.[0] === name &&
        n.input?.[1] !== name &&
        intAttr(n, 'axis', 0) === 0 &&
        !index.constant(n.input?.[1] ?? ''),
    );
    if (readers.length > 0 && lookups) tables.push({ table: t, gathers: readers });
  }
  return tables;
}

/**
 * Rewrites each table's Gathers to read 8-bit rows: uint8 values with zero point 128 and one scale per row (symmetric,
 * full 8-bit, as `quantizeWeightPerChannelU8` stores weights), dequantized after the lookup —
 * `(Cast(Gather(q, ids)) − 128) × Gather(scale, ids)` — so a request converts only the rows it reads, where a
 * DequantizeLinear before the Gather would convert the whole table on every run. Exactly what DequantizeLinear
 * computes, row by row. The float table is left for `pruneUnused`. Returns the number of tables rewritten.
 */
export function quantizeEmbeddingTables(graph: GraphProto, tables: EmbeddingTable[]): number {
  const replaced = new Map<NodeProto, NodeProto[]>();
  const inits: TensorProto[] = [];
  for (const { table: t, gathers } of tables) {
    const table = t.name ?? '';
    const dims = t.dims ?? [];
    const { values, scales } = quantizeWeightPerChannelU8(readTensorAsFloat32(t), dims, 0);
    const [q, scale, zero] = [`${table}_rows_uint8`, `${table}_row_scale`, `${table}_row_zero_point`];
    inits.push(makeTensor(q, dims, values), makeTensor(scale, [dims[0]!, 1], scales), makeTensor(zero, [], Float32Array.of(128)));
    for (const g of gathers) {
      const ids = g.input?.[1] ?? '';
      const y = g.output?.[0] ?? '';
      replaced.set(g, [
        makeNode('Gather', [q, ids], [`${y}_rows_quantized`], { axis: 0 }),
        makeNode('Cast', [`${y}_rows_quantized`], [`${y}_rows`], { to: DataType.FLOAT }),
        makeNode('Sub', [`${y}_rows`, zero], [`${y}_rows_centred`]),
        makeNode('Gather', [scale, ids], [`${y}_row_scales`], { axis: 0 }),
        makeNode('Mul', [`${y}_rows_centred`, `${y}_row_scales`], [y]),
      ]);
    }
  }
  graph.node = (graph.node ?? []).flatMap((n) => replaced.get(n) ?? [n]);
  graph.initializer = [...(graph.initializer ?? []), ...inits];
  return tables.length;
}

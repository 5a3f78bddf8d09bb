// Constant folding on an opset-13 graph: Constant nodes become initializers, nodes whose inputs are all constant
// (shape sub-graphs such as Shape → Gather → Concat → Reshape, Cast/Unsqueeze of constants) are computed once,
// and Identity / inference Dropout nodes go.
import { evaluateNode, MAX_FOLDED_ELEMENTS } from './const-eval.ts';
import { constFromTensor, constToTensor, type ConstValue } from './const-value.ts';
import { renameUses } from './graph-edit.ts';
import { findAttribute, GraphIndex, intAttr, isDefaultDomain } from './graph-query.ts';
import { pruneUnused } from './graph-prune.ts';
import { DataType, type GraphProto, type NodeProto, type TensorProto } from './onnx-types.ts';
import { inferShapes, isStatic } from './shape-inference.ts';
import { elementCount } from './tensor-data.ts';

/** Counts of what folding changed. */
export interface FoldStats {
  constantNodes: number;
  folded: number;
  removedIdentities: number;
}

/** Folds `graph` in place (see the file comment); returns what changed. */
export function foldConstants(graph: GraphProto): FoldStats {
  const stats: FoldStats = { constantNodes: constantsToInitializers(graph), folded: 0, removedIdentities: 0 };
  // Folding one node can make a downstream shape static, so repeat until nothing changes.
  for (let round = 0; round < 20; round++) {
    const n = foldOnce(graph);
    stats.folded += n;
    if (!n) break;
  }
  stats.removedIdentities = removeIdentities(graph);
  removeDeadNodes(graph);
  pruneUnused(graph);
  return stats;
}

/** Constant nodes (any value_* form except strings and sparse tensors) become initializers named as their output. */
export function constantsToInitializers(graph: GraphProto): number {
  let moved = 0;
  const keep: NodeProto[] = [];
  for (const n of graph.node ?? []) {
    const t = n.opType === 'Constant' && isDefaultDomain(n) ? constantTensor(n) : undefined;
    if (!t) {
      keep.push(n);
      continue;
    }
    (graph.initializer ??= []).push({ ...t, name: n.output?.[0] ?? '' });
    moved++;
  }
  graph.node = keep;
  return moved;
}

function constantTensor(n: NodeProto): TensorProto | undefined {
  const a = n.attribute?.[0];
  if (!a || (n.attribute?.length ?? 0) !== 1) return undefined;
  const name = n.output?.[0] ?? '';
  switch (a.name) {
    case 'value':
      return a.t;
    case 'value_float':
      return constToTensor(name, { dataType: DataType.FLOAT, dims: [], data: [a.f ?? 0] });
    case 'value_floats':
      return constToTensor(name, { dataType: DataType.FLOAT, dims: [a.floats?.length ?? 0], data: a.floats ?? [] });
    case 'value_int':
      return constToTensor(name, { dataType: DataType.INT64, dims: [], data: [Number(a.i ?? 0)] });
    case 'value_ints':
      return constToTensor(name, { dataType: DataType.INT64, dims: [a.ints?.length ?? 0], data: (a.ints ?? []).map(Number) });
  }
  return undefined;
}

function foldOnce(graph: GraphProto): number {
  const shapes = inferShapes(graph);
  const inputs = new Set((graph.input ?? []).map((v) => v.name));
  const outputs = new Set((graph.output ?? []).map((v) => v.name));
  const tensors = new Map<string, TensorProto>();
  for (const t of graph.initializer ?? []) if (t.name && !inputs.has(t.name)) tensors.set(t.name, t);
  const values = new Map<string, ConstValue | undefined>();
  const valueOf = (name: string): ConstValue | undefined => {
    if (!values.has(name)) {
      const t = tensors.get(name);
      values.set(name, t && elementCount(t.dims) <= MAX_FOLDED_ELEMENTS ? constFromTensor(t) : undefined);
    }
    return values.get(name);
  };
  let folded = 0;
  const keep: NodeProto[] = [];
  /** Shape outputs → the dims they hold (some symbolic), so Gather can pick out the static ones. */
  const shapeValues = new Map<string, (number | string)[] | undefined>();
  for (const n of graph.node ?? []) {
    // An Identity of a constant (PyTorch's shared weights) becomes a renamed copy, without decoding the data.
    const alias =
      n.opType === 'Identity' && isDefaultDomain(n) && !outputs.has(n.output?.[0] ?? '') ? tensors.get(n.input?.[0] ?? '') : undefined;
    if (alias) {
      const t = { ...alias, name: n.output?.[0] ?? '' };
      tensors.set(t.name, t);
      (graph.initializer ??= []).push(t);
      folded++;
      continue;
    }
    const partial = isDefaultDomain(n) ? foldShapeGather(n, shapeValues, valueOf) : undefined;
    if (n.opType === 'Shape' && isDefaultDomain(n)) shapeValues.set(n.output?.[0] ?? '', shapes.info.get(n.input?.[0] ?? '')?.dims);
    const outs =
      partial ??
      (isDefaultDomain(n) && !(n.output ?? []).some((o) => outputs.has(o))
        ? foldNode(n, valueOf, (name) => shapes.info.get(name)?.dims)
        : undefined);
    if (!outs) {
      keep.push(n);
      continue;
    }
    (n.output ?? []).forEach((o, i) => {
      const t = constToTensor(o, outs[i]!);
      tensors.set(o, t);
      values.set(o, outs[i]);
      (graph.initializer ??= []).push(t);
    });
    folded++;
  }
  graph.node = keep;
  return folded;
}

function foldNode(
  n: NodeProto,
  valueOf: (name: string) => ConstValue | undefined,
  dimsOf: (name: string) => (number | string)[] | undefined,
): ConstValue[] | undefined {
  const op = n.opType ?? '';
  if (op === 'Shape' || op === 'Size') {
    const dims = dimsOf(n.input?.[0] ?? '');
    if (!isStatic(dims) || findAttribute(n, 'start') || findAttribute(n, 'end')) return undefined;
    return op === 'Shape'
      ? [{ dataType: DataType.INT64, dims: [dims.length], data: dims }]
      : [{ dataType: DataType.INT64, dims: [], data: [elementCount(dims)] }];
  }
  if (!(n.input ?? []).length || (n.output?.length ?? 0) !== 1) return undefined;
  const ins = (n.input ?? []).map((i) => (i ? valueOf(i) : undefined));
  if ((n.input ?? []).some((name, i) => name && !ins[i])) return undefined;
  return evaluateNode(n, ins);
}

/** Drops default-domain nodes none of whose outputs is read (e.g. a Shape whose Gather was folded); ONNX ops have no side effects. */
function removeDeadNodes(graph: GraphProto): void {
  for (;;) {
    const index = new GraphIndex(graph);
    const live = (o: string) => !!o && (index.consumers.has(o) || index.graphOutputs.has(o));
    const before = graph.node?.length ?? 0;
    graph.node = (graph.node ?? []).filter((n) => !isDefaultDomain(n) || (n.output ?? []).some(live));
    if (graph.node.length === before) return;
  }
}

/** Gather of static entries from the Shape of a partly dynamic tensor (x.shape[1] with a dynamic batch). */
function foldShapeGather(
  n: NodeProto,
  shapeValues: Map<string, (number | string)[] | undefined>,
  valueOf: (name: string) => ConstValue | undefined,
): ConstValue[] | undefined {
  if (n.opType !== 'Gather' || intAttr(n, 'axis', 0) !== 0) return undefined;
  const dims = shapeValues.get(n.input?.[0] ?? '');
  const idx = valueOf(n.input?.[1] ?? '');
  if (!dims || !idx) return undefined;
  const picked = idx.data.map((i) => dims[i < 0 ? i + dims.length : i]);
  if (!picked.every((d) => typeof d === 'number')) return undefined;
  return [{ dataType: DataType.INT64, dims: idx.dims, data: picked as number[] }];
}

/**
 * Removes Identity nodes and Dropout nodes that are identities at inference (no training_mode input, mask unused).
 * A removed node's output that is a graph output is kept by renaming the producer's output instead.
 */
export function removeIdentities(graph: GraphProto): number {
  let removed = 0;
  for (const n of [...(graph.node ?? [])]) {
    if (!isDefaultDomain(n) || (n.opType !== 'Identity' && n.opType !== 'Dropout')) continue;
    const index = new GraphIndex(graph);
    const [x, y, mask] = [n.input?.[0] ?? '', n.output?.[0] ?? '', n.output?.[1]];
    if (n.opType === 'Dropout' && n.input?.[2]) continue;
    if (mask && (index.consumers.has(mask) || index.graphOutputs.has(mask))) continue;
    if (!index.graphOutputs.has(y)) {
      renameUses(graph, y, x);
    } else {
      // y must keep its name: give it to x's producer (only when x is neither a graph input/output nor a constant).
      const producer = index.producers.get(x);
      if (!producer || index.graphOutputs.has(x) || index.initializers.has(x)) continue;
      producer.output = producer.output!.map((o) => (o === x ? y : o));
      renameUses(graph, x, y);
    }
    graph.node = graph.node!.filter((m) => m !== n);
    removed++;
  }
  return removed;
}

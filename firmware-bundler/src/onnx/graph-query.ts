// Read-only questions about an ONNX graph: attribute values, opset versions, who produces and consumes a tensor.
import type { AttributeProto, GraphProto, ModelProto, NodeProto, TensorProto, ValueInfoProto } from './onnx-types.ts';

/** The attribute named `name` of a node, if present. */
export function findAttribute(node: NodeProto, name: string): AttributeProto | undefined {
  return node.attribute?.find((a) => a.name === name);
}

/** An INT attribute as a number, or `fallback` when absent. */
export function intAttr(node: NodeProto, name: string, fallback: number): number {
  const a = findAttribute(node, name);
  return a?.i === undefined ? fallback : Number(a.i);
}

/** A FLOAT attribute, or `fallback` when absent. */
export function floatAttr(node: NodeProto, name: string, fallback: number): number {
  return findAttribute(node, name)?.f ?? fallback;
}

/** An INTS attribute as numbers, or `fallback` when absent. */
export function intsAttr(node: NodeProto, name: string, fallback: number[]): number[] {
  const a = findAttribute(node, name);
  return a?.ints ? a.ints.map(Number) : fallback;
}

/** A STRING attribute decoded as UTF-8, or `fallback` when absent. */
export function stringAttr(node: NodeProto, name: string, fallback: string): string {
  const a = findAttribute(node, name);
  return a?.s ? new TextDecoder().decode(a.s) : fallback;
}

/** The imported version of an operator set (`''` and `'ai.onnx'` both mean the default domain), or undefined. */
export function opsetVersion(model: ModelProto, domain = ''): number | undefined {
  const norm = (d: string | undefined) => (d === 'ai.onnx' ? '' : (d ?? ''));
  const found = model.opsetImport?.filter((o) => norm(o.domain) === norm(domain)).map((o) => o.version ?? 0);
  return found && found.length ? Math.max(...found) : undefined;
}

/** Whether a node belongs to the default ONNX domain. */
export function isDefaultDomain(node: NodeProto): boolean {
  return !node.domain || node.domain === 'ai.onnx';
}

/** Static dims of a value info (`null` for symbolic or unknown dims), or undefined without a tensor shape. */
export function valueInfoDims(vi: ValueInfoProto): (number | null)[] | undefined {
  const shape = vi.type?.tensorType?.shape;
  return shape?.dim?.map((d) => (d.dimValue !== undefined ? d.dimValue : null));
}

/** Lookup tables over one graph; rebuild after editing the graph. */
export class GraphIndex {
  readonly producers = new Map<string, NodeProto>();
  readonly consumers = new Map<string, NodeProto[]>();
  readonly initializers = new Map<string, TensorProto>();
  readonly graphInputs: Set<string>;
  readonly graphOutputs: Set<string>;

  constructor(readonly graph: GraphProto) {
    for (const t of graph.initializer ?? []) if (t.name) this.initializers.set(t.name, t);
    for (const n of graph.node ?? []) {
      for (const o of n.output ?? []) if (o) this.producers.set(o, n);
      for (const i of n.input ?? []) {
        if (!i) continue;
        const list = this.consumers.get(i);
        if (list) list.push(n);
        else this.consumers.set(i, [n]);
      }
      // Tensors used inside subgraphs (If/Loop bodies) count as consumed by the node that owns them.
      for (const a of n.attribute ?? []) for (const g of [a.g, ...(a.graphs ?? [])]) if (g) this.addSubgraphUses(g, n);
    }
    this.graphInputs = new Set((graph.input ?? []).map((v) => v.name ?? ''));
    this.graphOutputs = new Set((graph.output ?? []).map((v) => v.name ?? ''));
  }

  private addSubgraphUses(g: GraphProto, owner: NodeProto): void {
    for (const n of g.node ?? []) {
      for (const i of n.input ?? []) if (i) (this.consumers.get(i) ?? this.consumers.set(i, []).get(i)!).push(owner);
      for (const a of n.attribute ?? []) for (const sub of [a.g, ...(a.graphs ?? [])]) if (sub) this.addSubgraphUses(sub, owner);
    }
  }

  /** A constant: an initializer that is not also a graph input (graph inputs may be overridden at run time). */
  constant(name: string): TensorProto | undefined {
    return this.graphInputs.has(name) ? undefined : this.initializers.get(name);
  }

  consumersOf(name: string): NodeProto[] {
    return this.consumers.get(name) ?? [];
  }
}

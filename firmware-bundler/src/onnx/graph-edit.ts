// A small editing context for graph rewrites: fresh tensor names, new initializers, nodes inserted before a node.
import type { ConstValue } from './const-value.ts';
import { constToTensor } from './const-value.ts';
import type { GraphProto, NodeProto } from './onnx-types.ts';

/** Collects edits to one graph; `apply` splices the inserted nodes in before their anchors. */
export class GraphEdit {
  private readonly names = new Set<string>();
  private readonly before = new Map<NodeProto, NodeProto[]>();
  private readonly after = new Map<NodeProto, NodeProto[]>();
  private counter = 0;

  constructor(readonly graph: GraphProto) {
    for (const vi of [...(graph.input ?? []), ...(graph.output ?? []), ...(graph.valueInfo ?? [])]) if (vi.name) this.names.add(vi.name);
    for (const t of graph.initializer ?? []) if (t.name) this.names.add(t.name);
    for (const n of graph.node ?? []) for (const o of n.output ?? []) if (o) this.names.add(o);
  }

  /** A tensor name not used anywhere in the graph, derived from `base`. */
  freshName(base: string): string {
    let name = base;
    while (this.names.has(name)) name = `${base}_${this.counter++}`;
    this.names.add(name);
    return name;
  }

  /** Adds a constant as an initializer under a fresh name and returns the name. */
  addConstant(base: string, value: ConstValue): string {
    const name = this.freshName(base);
    (this.graph.initializer ??= []).push(constToTensor(name, value));
    return name;
  }

  /** Queues `nodes` to run just before `anchor` (their outputs feed it). */
  insertBefore(anchor: NodeProto, ...nodes: NodeProto[]): void {
    const list = this.before.get(anchor);
    if (list) list.push(...nodes);
    else this.before.set(anchor, [...nodes]);
  }

  /** Queues `nodes` to run just after `anchor` (they read its outputs). */
  insertAfter(anchor: NodeProto, ...nodes: NodeProto[]): void {
    const list = this.after.get(anchor);
    if (list) list.push(...nodes);
    else this.after.set(anchor, [...nodes]);
  }

  /** Splices queued nodes into the node list, keeping it topologically sorted. */
  apply(): void {
    if (!this.before.size && !this.after.size) return;
    this.graph.node = (this.graph.node ?? []).flatMap((n) => [...(this.before.get(n) ?? []), n, ...(this.after.get(n) ?? [])]);
    this.before.clear();
    this.after.clear();
  }
}

/** Removes attributes by name from a node. */
export function dropAttributes(n: NodeProto, ...names: string[]): void {
  n.attribute = (n.attribute ?? []).filter((a) => !names.includes(a.name ?? ''));
  if (!n.attribute.length) delete n.attribute;
}

/** Replaces every use of tensor `from` (node inputs and graph outputs' producers stay) with `to`. */
export function renameUses(graph: GraphProto, from: string, to: string): void {
  for (const n of graph.node ?? []) if (n.input?.includes(from)) n.input = n.input.map((i) => (i === from ? to : i));
}

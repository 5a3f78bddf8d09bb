// Removes what no node, graph output or graph input refers to any more (after graph rewrites).
import { GraphIndex } from './graph-query.ts';
import type { GraphProto } from './onnx-types.ts';

/** Drops unused initializers and value infos of tensors that no longer exist; returns how many initializers went. */
export function pruneUnused(graph: GraphProto): number {
  const index = new GraphIndex(graph);
  const used = (name: string) => index.consumers.has(name) || index.graphOutputs.has(name) || index.graphInputs.has(name);
  const before = graph.initializer?.length ?? 0;
  graph.initializer = (graph.initializer ?? []).filter((t) => used(t.name ?? ''));
  const live = new Set<string>([...index.producers.keys(), ...index.graphInputs, ...graph.initializer.map((t) => t.name ?? '')]);
  if (graph.valueInfo) graph.valueInfo = graph.valueInfo.filter((v) => live.has(v.name ?? ''));
  return before - graph.initializer.length;
}

// Shrinks a quantized graph's bookkeeping once the weights are int8: identical constants (the many equal zero points)
// are stored once, internal tensors get short names and nodes lose their names and doc strings. On small or
// narrow models the graph, not the weights, is what keeps the int8 file above a quarter of the float one.
import { createHash } from 'node:crypto';
import type { GraphProto, TensorProto } from '@flotilla/firmware-bundler/onnx';

/** What {@link compactGraph} saved, for the report's notes. */
export interface CompactStats {
  /** Initializers dropped because an identical one (type, shape, bytes) remains. */
  sharedInitializers: number;
  /** Internal tensors renamed. */
  renamed: number;
}

/**
 * Rewrites `graph` in place: graph inputs and outputs keep their names (what callers feed and read); every other
 * tensor is renamed to a short base-36 id, node names and doc strings go (optional in ONNX, unused by onnxruntime's
 * kernels), and initializers with identical contents are merged. The computation is unchanged: only names differ.
 * The report names tensors as the float model does, since that is the file a person reads.
 */
export function compactGraph(graph: GraphProto): CompactStats {
  const kept = new Set([...(graph.input ?? []), ...(graph.output ?? [])].map((v) => v.name ?? ''));
  // Identical initializers: the first of each (type, shape, contents) stands for the rest.
  const alias = new Map<string, string>();
  const seen = new Map<string, string>();
  const unique: TensorProto[] = [];
  for (const t of graph.initializer ?? []) {
    const name = t.name ?? '';
    const key = kept.has(name) ? null : contentKey(t);
    const first = key ? seen.get(key) : undefined;
    if (first !== undefined) alias.set(name, first);
    else {
      if (key) seen.set(key, name);
      unique.push(t);
    }
  }
  graph.initializer = unique;
  const short = new Map<string, string>();
  let next = 0;
  const rename = (name: string): string => {
    if (!name || kept.has(name)) return name;
    const target = alias.get(name) ?? name;
    let s = short.get(target);
    if (s === undefined) {
      // Skips ids that a graph input or output already uses.
      do s = (next++).toString(36);
      while (kept.has(s));
      short.set(target, s);
    }
    return s;
  };
  for (const t of graph.initializer) t.name = rename(t.name ?? '');
  for (const n of graph.node ?? []) {
    n.input = (n.input ?? []).map(rename);
    n.output = (n.output ?? []).map(rename);
    delete n.name;
    delete n.docString;
  }
  // Value infos describe tensors by name; the renamed ones follow, those of tensors no node mentions go.
  graph.valueInfo = (graph.valueInfo ?? []).filter((v) => short.has(v.name ?? '') || kept.has(v.name ?? ''));
  for (const v of graph.valueInfo) v.name = rename(v.name ?? '');
  return { sharedInitializers: alias.size, renamed: short.size };
}

/** The report's note on what {@link compactGraph} did. */
export function compactNote(s: CompactStats): string {
  return `int8 file: ${s.renamed} internal tensors renamed to short ids and ${s.sharedInitializers} identical constants stored once (the report names tensors as the float model does)`;
}

/** Type, shape and contents of a tensor, hashed: equal keys mean interchangeable constants. */
function contentKey(t: TensorProto): string | null {
  const h = createHash('sha256');
  h.update(`${t.dataType}|${(t.dims ?? []).join(',')}|${t.dataLocation ?? 0}|`);
  if (t.externalData?.length) return null;
  if (t.rawData?.length) h.update(t.rawData);
  else {
    const values = t.floatData ?? t.int32Data ?? t.int64Data ?? t.doubleData ?? t.uint64Data ?? t.stringData ?? [];
    h.update(JSON.stringify(values, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
  }
  return h.digest('hex');
}

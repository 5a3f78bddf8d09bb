// ONNX tensors whose bytes live in another file (`external_data`): onnxruntime resolves that file against the
// server's working directory, so an uploaded model could name any file there (issue 16, Low). An import
// supplies one self-contained file and no directory, so every external reference is refused up front, with
// how to embed the weights instead.
import type { GraphProto, ModelProto, SparseTensorProto, TensorProto } from '@flotilla/firmware-bundler/onnx';

/** The first tensor of `model` (initializers, constants, sparse tensors, subgraphs, functions) that keeps its data in a file, or null. */
export function firstExternalTensor(model: ModelProto): { tensor: string; location: string } | null {
  const seen = new Set<GraphProto>();
  const ofTensor = (t: TensorProto | undefined) => {
    if (!t || (t.dataLocation !== 1 && !(t.externalData?.length ?? 0))) return null;
    return { tensor: t.name ?? '(unnamed)', location: t.externalData?.find((e) => e.key === 'location')?.value ?? '(no location)' };
  };
  const ofSparse = (s: SparseTensorProto | undefined) => ofTensor(s?.values) ?? ofTensor(s?.indices);
  const ofNodes = (nodes: NonNullable<GraphProto['node']>): ReturnType<typeof ofTensor> => {
    for (const n of nodes) {
      for (const a of n.attribute ?? []) {
        const hit =
          ofTensor(a.t) ??
          ofSparse(a.sparseTensor) ??
          (a.tensors ?? []).map(ofTensor).find(Boolean) ??
          (a.sparseTensors ?? []).map(ofSparse).find(Boolean) ??
          [a.g, ...(a.graphs ?? [])].map((g) => (g ? ofGraph(g) : null)).find(Boolean);
        if (hit) return hit;
      }
    }
    return null;
  };
  const ofGraph = (g: GraphProto): ReturnType<typeof ofTensor> => {
    if (seen.has(g)) return null;
    seen.add(g);
    return (
      (g.initializer ?? []).map(ofTensor).find(Boolean) ?? (g.sparseInitializer ?? []).map(ofSparse).find(Boolean) ?? ofNodes(g.node ?? [])
    );
  };
  return (model.graph ? ofGraph(model.graph) : null) ?? (model.functions ?? []).map((f) => ofNodes(f.node ?? [])).find(Boolean) ?? null;
}

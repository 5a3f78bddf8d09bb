// Gathers a model version's lineage from the API: the run and dataset it came from, its int8 export,
// the bundles made from it and the rollouts that shipped them.
import { listBundles } from '../api/fleet.ts';
import { getRun } from '../api/registry.ts';
import { listRollouts } from '../api/rollouts.ts';
import type { ModelVersion } from '../api/types.ts';
import type { LineageEdge, LineageNode } from '../components/lineage-graph.ts';
import { bytes, pct, shortId } from '../format.ts';
import { href } from '../router.ts';

export async function loadLineage(v: ModelVersion): Promise<{ nodes: LineageNode[]; edges: LineageEdge[] }> {
  const [run, bundles, rollouts] = await Promise.all([
    v.runId ? getRun(v.runId).catch(() => null) : Promise.resolve(null),
    listBundles({ model: v.model, limit: 200 }).catch(() => []),
    listRollouts({ model: v.model, limit: 200 }).catch(() => []),
  ]);
  const nodes: LineageNode[] = [];
  const edges: LineageEdge[] = [];
  const modelId = `model:${v.version}`;
  if (run) {
    nodes.push({ id: 'dataset', kind: 'dataset', label: run.datasetName, sub: `@${run.datasetDigest.slice(0, 12)}` });
    nodes.push({
      id: 'run',
      kind: 'run',
      label: run.id,
      sub: `${run.history.length} epochs · ${run.status}`,
      href: href('training', { run: run.id }),
    });
    edges.push({ from: 'dataset', to: 'run' }, { from: 'run', to: modelId });
  } else {
    nodes.push({ id: 'dataset', kind: 'dataset', label: v.format === 'onnx' ? 'imported ONNX' : 'unknown', absent: true });
    edges.push({ from: 'dataset', to: modelId });
  }
  const acc = typeof v.metrics?.accuracy === 'number' ? `accuracy ${pct(v.metrics.accuracy)}` : v.format;
  nodes.push({
    id: modelId,
    kind: 'model',
    label: `${v.model} v${v.version}`,
    sub: acc,
    href: href(['models', v.model], { v: v.version }),
  });
  const q = v.quantization as { parity?: { top1Agreement?: number; int8?: { bytes?: number } } } | null;
  nodes.push(
    q
      ? {
          id: 'int8',
          kind: 'quantized',
          label: 'int8',
          sub: q.parity?.top1Agreement !== undefined ? `agreement ${pct(q.parity.top1Agreement)}` : bytes(q.parity?.int8?.bytes),
        }
      : { id: 'int8', kind: 'quantized', label: 'not quantized', absent: true },
  );
  edges.push({ from: modelId, to: 'int8' });
  const mine = bundles.filter((b) => b.modelVersion === v.version);
  for (const b of mine) {
    nodes.push({
      id: `b:${b.id}`,
      kind: 'bundle',
      label: `${b.model}@${b.version}`,
      sub: `${shortId(b.id, 8)} · ${bytes(b.bytes)}`,
      href: href(['rollouts', 'new'], { bundle: b.id }),
    });
    edges.push({ from: b.artifact.includes('int8') || q ? 'int8' : modelId, to: `b:${b.id}` });
  }
  for (const r of rollouts) {
    if (!mine.some((b) => b.id === r.bundle.id)) continue;
    nodes.push({ id: `r:${r.id}`, kind: 'rollout', label: r.id, sub: r.state.replace(/_/g, ' '), href: href(['rollouts', r.id]) });
    edges.push({ from: `b:${r.bundle.id}`, to: `r:${r.id}` });
  }
  return { nodes, edges };
}

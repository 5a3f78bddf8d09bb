// The ONNX normaliser: Constant nodes → initializers, opset upgrade to 13, constant folding, Identity/Dropout removal.
// What comes out computes the same as what went in (callers with a runtime check that, see verify-upgrade on the
// server); what cannot be carried over exactly is refused with UpgradeError.
import { constantsToInitializers, foldConstants, type FoldStats } from './fold-constants.ts';
import type { GraphProto, ModelProto, TensorShapeDimension } from './onnx-types.ts';
import { inferShapes } from './shape-inference.ts';
import { upgradeOpset, type OpsetUpgrade } from './upgrade-opset.ts';

/** What {@link normalizeModel} did. */
export interface NormalizeReport {
  upgrade: OpsetUpgrade;
  fold: FoldStats;
  /** One line per step that changed something, for reports. */
  notes: string[];
}

/** Normalises `model` in place; throws UpgradeError naming the op that cannot be carried over. */
export function normalizeModel(model: ModelProto): NormalizeReport {
  const graph = (model.graph ??= {});
  // Constants first: shape inference during the upgrade then sees Reshape targets and axes given by Constant nodes.
  const constantNodes = constantsToInitializers(graph);
  const upgrade = upgradeOpset(model);
  const fold = foldConstants(graph);
  fold.constantNodes += constantNodes;
  const typed = typeOutputs(graph);
  const notes: string[] = [];
  if (upgrade.to !== upgrade.from) {
    notes.push(
      `upgraded opset ${upgrade.from} → ${upgrade.to}${upgrade.rewritten.length ? ` (rewrote ${upgrade.rewritten.join(', ')})` : ''}`,
    );
  }
  if (fold.constantNodes) notes.push(`moved ${fold.constantNodes} Constant node(s) into initializers`);
  if (fold.folded) notes.push(`folded ${fold.folded} constant node(s)`);
  if (fold.removedIdentities) notes.push(`removed ${fold.removedIdentities} Identity/Dropout node(s)`);
  if (typed) notes.push(`typed ${typed} graph output(s) from shape inference`);
  return { upgrade, fold, notes };
}

/**
 * Gives graph outputs declared without a type or shape the inferred ones (the ONNX checker requires them; unnamed
 * dynamic dims stay unnamed). Returns how many outputs were filled in.
 */
function typeOutputs(graph: GraphProto): number {
  const missing = (graph.output ?? []).filter((o) => !o.type?.tensorType?.shape || !o.type.tensorType.elemType);
  if (!missing.length) return 0;
  const { info } = inferShapes(graph);
  let typed = 0;
  for (const o of missing) {
    const t = info.get(o.name ?? '');
    if (!t?.elemType || !t.dims) continue;
    const dim: TensorShapeDimension[] = t.dims.map((d) =>
      typeof d === 'number' ? { dimValue: d } : d.startsWith('?') ? {} : { dimParam: d },
    );
    o.type = { ...o.type, tensorType: { ...o.type?.tensorType, elemType: t.elemType, shape: { dim } } };
    typed++;
  }
  return typed;
}

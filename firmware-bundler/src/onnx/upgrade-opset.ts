// Upgrades a model's ai.onnx opset to 13 node by node (rules in opset-upgrade-rules.ts), or refuses with UpgradeError.
import { GraphEdit } from './graph-edit.ts';
import { GraphIndex, isDefaultDomain, opsetVersion } from './graph-query.ts';
import type { ModelProto } from './onnx-types.ts';
import { UPGRADE_RULES } from './opset-upgrade-rules.ts';
import { inferShapes } from './shape-inference.ts';
import { UpgradeError } from './upgrade-error.ts';

/** The opset the upgrader brings models to (the first with per-axis QuantizeLinear and input-form axes). */
export const UPGRADE_TARGET_OPSET = 13;

/** What the upgrade did. */
export interface OpsetUpgrade {
  from: number;
  to: number;
  /** Op types whose nodes were rewritten (not just relabelled), sorted. */
  rewritten: string[];
  /** Op types carried over to the new opset (rewritten or unchanged), sorted. */
  carried: string[];
}

/**
 * Rewrites `model` in place to opset 13 when its ai.onnx opset is older; models at 13 or newer are left alone.
 * Every node must have a rule; the first node that cannot be carried over exactly throws {@link UpgradeError}.
 */
export function upgradeOpset(model: ModelProto): OpsetUpgrade {
  const from = opsetVersion(model) ?? 1;
  const graph = (model.graph ??= {});
  if (from >= UPGRADE_TARGET_OPSET) return { from, to: from, rewritten: [], carried: [] };
  const shapes = inferShapes(graph);
  const index = new GraphIndex(graph);
  const used = (name: string) => index.consumers.has(name) || index.graphOutputs.has(name);
  const edit = new GraphEdit(graph);
  const rewritten = new Set<string>();
  const carried = new Set<string>();
  for (const n of [...(graph.node ?? [])]) {
    if (!isDefaultDomain(n)) continue;
    const op = n.opType ?? '';
    const where = n.name || n.output?.[0] || '?';
    const refuse = (reason: string): never => {
      throw new UpgradeError(op, reason, where, from);
    };
    if ((n.attribute ?? []).some((a) => a.g || a.graphs?.length)) refuse('nodes with subgraphs (control flow) are not upgraded');
    const rule = UPGRADE_RULES[op];
    if (!rule) refuse('no upgrade rule for this op');
    if (rule!.never) refuse(rule!.never);
    carried.add(op);
    // consumed_inputs (opsets 1 to 5) was a memory-reuse hint with no effect on results; opset 6 removed it.
    if (from < 6 && n.attribute?.some((a) => a.name === 'consumed_inputs')) {
      n.attribute = n.attribute.filter((a) => a.name !== 'consumed_inputs');
      rewritten.add(op);
    }
    if (from >= rule!.same) continue;
    if (!rule!.rewrite) refuse(`its definition changed after opset ${from} and there is no rewrite for it`);
    rule!.rewrite!(n, { from, edit, shapes, used, refuse });
    rewritten.add(op);
  }
  edit.apply();
  model.opsetImport = (model.opsetImport ?? []).map((o) =>
    !o.domain || o.domain === 'ai.onnx' ? { ...o, version: UPGRADE_TARGET_OPSET } : o,
  );
  // IR version 7 is the oldest that may declare opset 13.
  model.irVersion = Math.max(model.irVersion ?? 0, 7);
  return { from, to: UPGRADE_TARGET_OPSET, rewritten: [...rewritten].sort(), carried: [...carried].sort() };
}

// Validation lives apart from the schemas: the layer planner and the topology check read the spec
// types, and validation calls them, so keeping both here closed an import circle.
import { planLayers } from './layer-plan.ts';
import { LayerListSpecSchema, TopologySpecSchema, type ModelContext, type ModelSpec } from './model-spec.ts';
import { formatIssues } from './spec-issues.ts';
import { checkTopology } from './topology-check.ts';

export type ValidationResult = { ok: true; spec: ModelSpec; notes: string[] } | { ok: false; errors: string[] };

/** Model-spec validation limits. */
export const MAX_PARAMETERS = 20_000_000;

/**
 * Checks a spec without building anything: field types and ranges (zod), then shapes through the
 * layer list (kernels larger than their input, reshapes that change the size, parameter count up to
 * MAX_PARAMETERS) or the topology's structure. Every problem is reported, each naming its place,
 * e.g. "layers[2].units must be an integer from 1 to 65536". `notes` on success lists what the
 * builder will add (auto flatten/reshape, the output layer) and anything that breaks determinism.
 */
export function validateModelSpec(spec: unknown, ctx: ModelContext): ValidationResult {
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec))
    return { ok: false, errors: ['spec must be an object with either "layers" or "topology"'] };
  if ('topology' in spec) {
    const parsed = TopologySpecSchema.safeParse(spec);
    if (!parsed.success) return { ok: false, errors: formatIssues(parsed.error.issues, 'spec') };
    const checked = checkTopology(parsed.data.topology, ctx);
    return checked.errors.length ? { ok: false, errors: checked.errors } : { ok: true, spec: parsed.data, notes: checked.notes };
  }
  if (!('layers' in spec))
    return { ok: false, errors: ['spec must have either "layers" (a layer list) or "topology" (a TensorFlow.js model topology)'] };
  const parsed = LayerListSpecSchema.safeParse(spec);
  if (!parsed.success) return { ok: false, errors: formatIssues(parsed.error.issues, 'spec') };
  const plan = planLayers(parsed.data.layers, ctx);
  if (!plan.ok) return { ok: false, errors: plan.errors };
  if (plan.parameters > MAX_PARAMETERS) {
    return {
      ok: false,
      errors: [`model has ${plan.parameters.toLocaleString('en-US')} parameters; the limit is ${MAX_PARAMETERS.toLocaleString('en-US')}`],
    };
  }
  return { ok: true, spec: parsed.data, notes: plan.notes };
}

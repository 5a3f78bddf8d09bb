// Probing a candidate model: run the manifest's self-test vectors within tolerance and a time budget (SPEC §4.7).
import type { BundleManifest, TensorSpec } from '@flotilla/firmware-bundler';
import { AgentError } from '../errors.ts';
import type { ModelSession, TensorValue } from '../runtime/inference-runtime.ts';

/** What a probe found: vectors run and the largest error seen (for the status reason). */
export interface ProbeReport {
  vectors: number;
  maxAbsError: number;
  ms: number;
}

/**
 * Runs every self-test vector on `session`; throws AGENT_SELF_TEST_FAILED on the first output
 * outside |actual − expected| ≤ abs + rel·|expected| (or NaN), AGENT_SELF_TEST_TIMEOUT when all of
 * it takes longer than `budgetMs`. A manifest without vectors gets a smoke run on zeros whose
 * outputs must be finite, so a model that cannot run at all is still caught.
 */
export async function probeModel(session: ModelSession, manifest: BundleManifest, budgetMs: number, now: () => number = () => performance.now()): Promise<ProbeReport> {
  const t0 = now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new AgentError('AGENT_SELF_TEST_TIMEOUT', `self-tests took longer than ${budgetMs} ms`)), budgetMs);
  });
  try {
    const maxAbsError = await Promise.race([runVectors(session, manifest, () => now() - t0 > budgetMs, budgetMs), timeout]);
    return { vectors: manifest.selfTests?.length ?? 0, maxAbsError, ms: now() - t0 };
  } finally {
    clearTimeout(timer);
  }
}

async function runVectors(session: ModelSession, manifest: BundleManifest, overBudget: () => boolean, budgetMs: number): Promise<number> {
  const inputs = manifest.signature?.inputs ?? session.inputs.map((i) => ({ name: i.name, dtype: 'float32' as const, shape: (i.shape ?? [1]).map((d) => (typeof d === 'number' ? d : null)) }));
  const tests = manifest.selfTests ?? [];
  if (tests.length === 0) {
    const feeds: Record<string, TensorValue> = {};
    for (const spec of inputs) {
      const dims = spec.shape.map((d) => d ?? 1);
      feeds[spec.name] = { data: new Float32Array(dims.reduce((a, b) => a * b, 1)), dims };
    }
    const out = await session.run(feeds);
    for (const [name, t] of Object.entries(out)) {
      if (!t.data.every(Number.isFinite)) throw new AgentError('AGENT_SELF_TEST_FAILED', `smoke run on zeros: output ${name} is not finite`);
    }
    return 0;
  }
  let worst = 0;
  for (const test of tests) {
    const feeds: Record<string, TensorValue> = {};
    for (const spec of inputs) {
      const values = test.inputs[spec.name];
      if (!values) throw new AgentError('AGENT_SELF_TEST_FAILED', `self-test ${test.name} has no values for input ${spec.name}`);
      feeds[spec.name] = { data: Float32Array.from(values), dims: resolveDims(spec, values.length) };
    }
    const out = await session.run(feeds);
    for (const [name, expected] of Object.entries(test.expected)) {
      const got = out[name];
      if (!got) throw new AgentError('AGENT_SELF_TEST_FAILED', `self-test ${test.name}: the model has no output ${name}`);
      if (got.data.length !== expected.length) throw new AgentError('AGENT_SELF_TEST_FAILED', `self-test ${test.name}: output ${name} has ${got.data.length} values, expected ${expected.length}`);
      const { abs, rel = 0 } = test.tolerance;
      for (let i = 0; i < expected.length; i++) {
        const e = expected[i]!;
        const err = Math.abs(got.data[i]! - e);
        if (!(err <= abs + rel * Math.abs(e))) {
          throw new AgentError('AGENT_SELF_TEST_FAILED', `self-test ${test.name}: ${name}[${i}] = ${got.data[i]}, expected ${e} ± ${abs + rel * Math.abs(e)}`);
        }
        if (err > worst) worst = err;
      }
    }
    if (overBudget()) throw new AgentError('AGENT_SELF_TEST_TIMEOUT', `self-tests took longer than ${budgetMs} ms`);
  }
  return worst;
}

/** Dims of `count` values for `spec`: the one dynamic dimension (the batch) takes what the rest leave. */
export function resolveDims(spec: Pick<TensorSpec, 'name' | 'shape'>, count: number): number[] {
  const known = spec.shape.reduce<number>((a, d) => a * (d ?? 1), 1);
  const dynamic = spec.shape.filter((d) => d === null).length;
  if (dynamic > 1) throw new AgentError('AGENT_SELF_TEST_FAILED', `input ${spec.name} has more than one dynamic dimension`);
  if (count % known !== 0) throw new AgentError('AGENT_SELF_TEST_FAILED', `input ${spec.name}: ${count} values do not fill shape [${spec.shape.join(', ')}]`);
  return spec.shape.map((d) => d ?? count / known);
}

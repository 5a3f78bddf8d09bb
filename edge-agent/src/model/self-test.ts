// Probing a candidate model: run the manifest's self-test vectors within tolerance and a time budget (SPEC §4.7).
import type { BundleManifest, TensorSpec } from '@flotilla/firmware-bundler';
import { AgentError, isAgentError } from '../errors.ts';
import { runTensors, type ModelSession } from '../runtime/inference-runtime.ts';
import { isTensorType, tensorNumbers, toTensor, zeroTensor, type Tensor } from '../runtime/tensors.ts';

/** What a probe found: vectors run and the largest error seen (for the status reason). */
export interface ProbeReport {
  vectors: number;
  maxAbsError: number;
  ms: number;
}

/**
 * Runs every self-test vector on `session`; throws AGENT_SELF_TEST_FAILED on the first output
 * outside |actual − expected| ≤ abs + rel·|expected| (or NaN), AGENT_SELF_TEST_TIMEOUT when all of
 * it takes longer than `budgetMs`. Inputs take their signature's element type (int64 ids, bool masks).
 * A manifest without vectors gets a smoke run on zeros of every input (dynamic dims at 1) whose
 * outputs must be finite, so a model that cannot run at all is still caught.
 */
export async function probeModel(
  session: ModelSession,
  manifest: BundleManifest,
  budgetMs: number,
  now: () => number = () => performance.now(),
): Promise<ProbeReport> {
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
  const inputs: TensorSpec[] =
    manifest.signature?.inputs ??
    session.inputs.map((i) => ({
      name: i.name,
      dtype: isTensorType(i.type) ? i.type : 'float32',
      shape: (i.shape ?? [1]).map((d) => (typeof d === 'number' ? d : null)),
    }));
  const tests = manifest.selfTests ?? [];
  if (tests.length === 0) {
    // A representative input from the signature alone: zeros of each input's type, dynamic dims at 1. It
    // proves the model loads and runs with every input it declares (ids, masks, state tensors included).
    const feeds: Record<string, Tensor> = {};
    for (const spec of inputs) {
      if (!isTensorType(spec.dtype))
        throw new AgentError('AGENT_SELF_TEST_FAILED', `input ${spec.name} is ${spec.dtype}, which the agent cannot feed`);
      feeds[spec.name] = zeroTensor(
        spec.dtype,
        spec.shape.map((d) => d ?? 1),
      );
    }
    const out = await runTensors(session, feeds);
    for (const [name, t] of Object.entries(out)) {
      if (!tensorNumbers(t).every((v) => Number.isFinite(v)))
        throw new AgentError('AGENT_SELF_TEST_FAILED', `smoke run on zeros: output ${name} is not finite`);
    }
    return 0;
  }
  let worst = 0;
  for (const test of tests) {
    const feeds: Record<string, Tensor> = {};
    for (const spec of inputs) {
      const values = test.inputs[spec.name];
      if (!values) throw new AgentError('AGENT_SELF_TEST_FAILED', `self-test ${test.name} has no values for input ${spec.name}`);
      try {
        feeds[spec.name] = toTensor(spec, { dims: resolveDims(spec, values.length), data: values });
      } catch (err) {
        if (isAgentError(err, 'AGENT_INPUT_INVALID'))
          throw new AgentError('AGENT_SELF_TEST_FAILED', `self-test ${test.name}: ${err.message}`);
        throw err;
      }
    }
    const out = await runTensors(session, feeds);
    for (const [name, expected] of Object.entries(test.expected)) {
      const t = out[name];
      if (!t) throw new AgentError('AGENT_SELF_TEST_FAILED', `self-test ${test.name}: the model has no output ${name}`);
      const got = tensorNumbers(t);
      if (got.length !== expected.length)
        throw new AgentError(
          'AGENT_SELF_TEST_FAILED',
          `self-test ${test.name}: output ${name} has ${got.length} values, expected ${expected.length}`,
        );
      const { abs, rel = 0 } = test.tolerance;
      for (let i = 0; i < expected.length; i++) {
        const e = expected[i]!;
        const err = Math.abs(got[i]! - e);
        if (!(err <= abs + rel * Math.abs(e))) {
          throw new AgentError(
            'AGENT_SELF_TEST_FAILED',
            `self-test ${test.name}: ${name}[${i}] = ${got[i]}, expected ${e} ± ${abs + rel * Math.abs(e)}`,
          );
        }
        if (err > worst) worst = err;
      }
    }
    if (overBudget()) throw new AgentError('AGENT_SELF_TEST_TIMEOUT', `self-tests took longer than ${budgetMs} ms`);
  }
  return worst;
}

/**
 * Dims of `count` values for `spec`. A vector is one sample: with several dynamic dimensions the leading
 * ones (the batch) are 1 and the last one (a sequence length) takes what the rest leave.
 */
export function resolveDims(spec: Pick<TensorSpec, 'name' | 'shape'>, count: number): number[] {
  const known = spec.shape.reduce<number>((a, d) => a * (d ?? 1), 1);
  const last = spec.shape.lastIndexOf(null);
  if (last < 0) return spec.shape as number[];
  if (known === 0 || count % known !== 0)
    throw new AgentError(
      'AGENT_SELF_TEST_FAILED',
      `input ${spec.name}: ${count} values do not fill shape [${spec.shape.map((d) => d ?? '?').join(', ')}]`,
    );
  return spec.shape.map((d, i) => d ?? (i === last ? count / known : 1));
}

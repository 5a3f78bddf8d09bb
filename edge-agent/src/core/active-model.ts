// A loaded, verified model ready to serve: session, compiled preprocessing and features, and an in-flight count.
import type { BundleManifest, TensorSpec } from '@flotilla/firmware-bundler';
import { AgentError } from '../errors.ts';
import { compileFeatures, type FeatureExtractor } from '@flotilla/firmware-bundler';
import { compilePipeline, type Pipeline } from '../preprocess/pipeline.ts';
import type { InferenceRuntime, ModelSession } from '../runtime/inference-runtime.ts';
import type { InstalledModel } from '../update/slots.ts';
import type { SlotName } from '../update/update-record.ts';
import type { ProviderChoice } from './accelerator.ts';

/** Which model answered: what `predict` results and events carry. */
export interface ModelInfo {
  name: string;
  version: string;
  sequence: number;
}

/**
 * An immutable model reference. The agent swaps the whole reference in one assignment, so a
 * prediction sees either the old model or the new one, never a mix; `inflight` keeps the old
 * session alive until the predictions that started on it have finished.
 */
export interface ActiveModel {
  readonly info: ModelInfo;
  readonly slot: SlotName;
  readonly envelopeDigest: string;
  readonly manifest: BundleManifest;
  readonly session: ModelSession;
  readonly inputName: string;
  /** Model input dims without the batch dimension. */
  readonly rowDims: readonly number[];
  /** `[1, ...rowDims]`, made once: the dims of a single-row call. */
  readonly dims1: readonly number[];
  readonly rowSize: number;
  /** Whether the first input dimension is a free batch dimension. */
  readonly batchable: boolean;
  readonly pipeline: Pipeline;
  readonly outputNames: readonly string[];
  /** The output whose argmax is top1 (the first one). */
  readonly primaryOutput: string;
  /** Class labels from the manifest. */
  readonly labels: readonly string[] | undefined;
  readonly extractFeatures: FeatureExtractor;
  readonly featureNames: readonly string[];
  /** The execution provider serving this model and why (set by the ModelHost that loaded it). */
  provider?: ProviderChoice;
  inflight: number;
  retired: boolean;
}

/** Loads an installed model into `runtime` and compiles what serving it needs. */
export async function loadActiveModel(installed: InstalledModel, runtime: InferenceRuntime): Promise<ActiveModel> {
  const { manifest } = installed;
  const bytes = installed.files.get(manifest.model.file);
  if (!bytes) throw new AgentError('AGENT_SLOT_INVALID', `model file ${manifest.model.file} is missing`);
  const session = await runtime.load(bytes);
  try {
    const spec: Pick<TensorSpec, 'name' | 'shape'> | undefined = manifest.signature?.inputs[0] ?? toSpec(session.inputs[0]);
    if (!spec) throw new AgentError('AGENT_MODEL_LOAD_FAILED', 'the model has no inputs');
    if (!session.inputs.some((i) => i.name === spec.name)) throw new AgentError('AGENT_MODEL_LOAD_FAILED', `the manifest names input ${spec.name}, the model has ${session.inputs.map((i) => i.name).join(', ')}`);
    const [batch, ...rest] = spec.shape;
    if (!rest.every((d): d is number => typeof d === 'number' && d > 0)) {
      throw new AgentError('AGENT_MODEL_LOAD_FAILED', `input ${spec.name} has dynamic dimensions beyond the batch: [${spec.shape.join(', ')}]`);
    }
    const rowSize = rest.reduce((a, b) => a * b, 1);
    const pipeline = compilePipeline(manifest.preprocessing, rest);
    const features = (manifest.referenceProfile?.features ?? []).filter((f) => f.input === undefined || f.input === spec.name);
    const primaryOutput = manifest.signature?.outputs[0]?.name ?? session.outputNames[0];
    if (!primaryOutput) throw new AgentError('AGENT_MODEL_LOAD_FAILED', 'the model has no outputs');
    return {
      info: { name: manifest.model.name, version: manifest.model.version, sequence: manifest.model.sequence },
      slot: installed.slot,
      envelopeDigest: installed.envelopeDigest,
      manifest,
      session,
      inputName: spec.name,
      rowDims: rest,
      dims1: [1, ...rest],
      rowSize,
      batchable: typeof batch !== 'number',
      pipeline,
      outputNames: session.outputNames,
      primaryOutput,
      labels: manifest.labels,
      extractFeatures: compileFeatures(features, pipeline.dims),
      featureNames: features.map((f) => f.name),
      inflight: 0,
      retired: false,
    };
  } catch (err) {
    await session.release().catch(() => undefined);
    throw err;
  }
}

function toSpec(input: { name: string; shape: readonly (number | string | null)[] | null } | undefined): Pick<TensorSpec, 'name' | 'shape'> | undefined {
  if (!input) return undefined;
  return { name: input.name, shape: (input.shape ?? [null]).map((d) => (typeof d === 'number' ? d : null)) };
}

/** Releases the session once no prediction uses it any more. */
export function retire(model: ActiveModel): void {
  model.retired = true;
  if (model.inflight === 0) void model.session.release().catch(() => undefined);
}

/** Marks the end of one prediction on `model`, releasing it if it was retired meanwhile. */
export function finishUse(model: ActiveModel): void {
  if (--model.inflight === 0 && model.retired) void model.session.release().catch(() => undefined);
}

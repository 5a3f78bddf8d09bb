// A loaded, verified model ready to serve: session, compiled preprocessing and features, and an in-flight count.
import {
  compileFeatures,
  TENSOR_DTYPES,
  type BundleManifest,
  type FeatureExtractor,
  type IoSignature,
  type TensorSpec,
} from '@flotilla/firmware-bundler';
import { AgentError } from '../errors.ts';
import { compilePipeline, type Pipeline } from '../preprocess/pipeline.ts';
import type { InferenceRuntime, ModelSession, SessionInput } from '../runtime/inference-runtime.ts';
import type { InstalledModel, SlotName } from './installed-model.ts';
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
  /** Every input and output with its element type and shape: the manifest's, else the runtime's. */
  readonly signature: IoSignature;
  /**
   * Whether `predict(row)` (the array form) serves this model: one float32 input with fixed dims past
   * the batch. Every model takes named tensors.
   */
  readonly rowInput: boolean;
  /** The first input (the array form's). */
  readonly inputName: string;
  /** Model input dims without the batch dimension (empty when not {@link rowInput}). */
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
    const signature = signatureOf(manifest, session);
    const missing = signature.inputs.find((s) => !session.inputs.some((i) => i.name === s.name));
    if (missing)
      throw new AgentError(
        'AGENT_MODEL_LOAD_FAILED',
        `the manifest names input ${missing.name}, the model has ${session.inputs.map((i) => i.name).join(', ')}`,
      );
    const spec = signature.inputs[0];
    if (!spec) throw new AgentError('AGENT_MODEL_LOAD_FAILED', 'the model has no inputs');
    const primaryOutput = signature.outputs[0]?.name;
    if (!primaryOutput) throw new AgentError('AGENT_MODEL_LOAD_FAILED', 'the model has no outputs');
    const [batch, ...rest] = spec.shape;
    // The array form (`predict(row)`) needs one float32 input whose dims past the batch are fixed; any other
    // model (several inputs, integer ids, a dynamic sequence length) is served through named tensors only.
    const rowInput =
      signature.inputs.length === 1 && spec.dtype === 'float32' && rest.every((d): d is number => typeof d === 'number' && d > 0);
    const rowDims = rowInput ? (rest as number[]) : [];
    const pipeline = compilePipeline(rowInput ? manifest.preprocessing : undefined, rowDims);
    const features = rowInput
      ? (manifest.referenceProfile?.features ?? []).filter((f) => f.input === undefined || f.input === spec.name)
      : [];
    return {
      info: { name: manifest.model.name, version: manifest.model.version, sequence: manifest.model.sequence },
      slot: installed.slot,
      envelopeDigest: installed.envelopeDigest,
      manifest,
      session,
      signature,
      rowInput,
      inputName: spec.name,
      rowDims,
      dims1: [1, ...rowDims],
      rowSize: rowDims.reduce((a, b) => a * b, 1),
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

/** The manifest's signature, else what the runtime reports (untyped tensors taken as float32). */
function signatureOf(manifest: BundleManifest, session: ModelSession): IoSignature {
  if (manifest.signature) return manifest.signature;
  const spec = (t: SessionInput): TensorSpec => ({
    name: t.name,
    dtype: (TENSOR_DTYPES as readonly string[]).includes(t.type ?? '') ? (t.type as TensorSpec['dtype']) : 'float32',
    shape: (t.shape ?? [null]).map((d) => (typeof d === 'number' ? d : null)),
  });
  return {
    inputs: session.inputs.map(spec),
    outputs: (session.outputs ?? session.outputNames.map((name) => ({ name, shape: null }))).map(spec),
  };
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

// Evidence that comes with a model made elsewhere: a reference set of its inputs (checked against the model's
// input signature), class labels, optional labelled held-out rows, and free-form lineage. From them the
// server computes what a native run gets (reference profile, prediction and confidence histograms,
// self-test rows, calibration map) by running the model itself; the result is stored as the version's
// `evidence.json` artifact and its lineage record under `metrics.import`.
import { readNpy, type NpyArray } from '../convert/npy.ts';
import type { ModelSignature } from '../convert/signature.ts';
import { referenceFromRows, SELF_TESTS, type Rows, type RowsReference } from '../monitoring/reference-from-rows.ts';
import { ConversionError } from './conversion-error.ts';

/** Fewest reference rows: below this the decile bins of a profile describe noise. */
export const MIN_REFERENCE_ROWS = 32;
/** Largest lineage JSON kept with a version (bytes, serialized). */
export const MAX_LINEAGE_BYTES = 64 * 1024;
/** Most labels (classes) accepted. */
const MAX_LABELS = 10_000;

/** What a client sends with an import (all raw bytes as uploaded; only the reference is required for evidence). */
export interface ImportEvidenceInput {
  /** `.npy` of reference inputs, samples first. */
  reference: Uint8Array;
  /** JSON array of class names in output order. */
  labels?: Uint8Array;
  /** `.npy` of labelled held-out inputs, and `.npy` of their integer labels. */
  evaluation?: Uint8Array;
  evaluationLabels?: Uint8Array;
  /** JSON object: where the model came from (exporter, its version, training repo and commit, dataset URIs). */
  lineage?: Uint8Array;
}

/** Where a version came from: an import by an operator, or an outside trainer's retrain. */
export interface ImportRecord {
  source: 'import' | 'trainer';
  /** sha256 of the ONNX file. */
  digest: string;
  importedBy: string;
  importedAt: string;
  lineage: Record<string, unknown> | null;
}

/** The `evidence.json` artifact of an imported version. */
export interface ImportEvidence {
  format: 'flotilla-evidence/1';
  record: ImportRecord;
  labels: string[] | null;
  /** Shape of one input row (batch dimension left out). */
  featureShape: number[];
  reference: RowsReference;
  /** Reference rows whose outputs a bundle's self-tests expect (recomputed with the bundled artifact). */
  selfTestInputs: number[][];
  /**
   * sha256 of a blob with the reference rows as float32 `.npy` (at most PROFILE_ROWS, spread); absent in
   * evidence recorded before it was kept. A challenger of this model made by an outside trainer profiles
   * the cohorts that sent no field data on these rows.
   */
  referenceRows?: string;
}

const bad = (code: string, msg: string): never => {
  throw new ConversionError(code, msg);
};

function npy(bytes: Uint8Array, what: string, code: string): NpyArray {
  try {
    return readNpy(bytes);
  } catch (e) {
    return bad(code, `${what}: ${(e as Error).message}`);
  }
}

const describeShape = (s: (number | null)[]) => `[${s.map((d) => d ?? 'N').join(', ')}]`;

/** Checks rows against the model's first input: float dtype, rank, fixed dims; returns them as Rows. */
export function rowsFor(arr: NpyArray, sig: ModelSignature, what: string, code: string): Rows {
  const input = sig.inputs[0];
  if (!input) return bad(code, 'the model has no inputs to compare the reference set with');
  if (!/^float(32|64)?$/.test(input.dtype))
    return bad(code, `the model's input '${input.name}' takes ${input.dtype}; reference sets are supported for float inputs only`);
  if (!/^[<>=|]f[48]$/.test(arr.dtype))
    return bad(
      code,
      `${what} has dtype ${arr.dtype}; the model's input '${input.name}' takes ${input.dtype}: save it with .astype('float32')`,
    );
  if (arr.shape.length !== input.shape.length) {
    return bad(
      code,
      `${what} has shape ${describeShape(arr.shape)}; the model's input '${input.name}' expects ${describeShape(input.shape)} (samples first)`,
    );
  }
  for (let i = 1; i < arr.shape.length; i++) {
    const want = input.shape[i];
    if (typeof want === 'number' && want > 0 && want !== arr.shape[i]) {
      return bad(
        code,
        `${what} has shape ${describeShape(arr.shape)}; the model's input '${input.name}' expects ${describeShape(input.shape)} (dimension ${i} differs)`,
      );
    }
  }
  if (arr.data.some((v) => !Number.isFinite(v))) return bad(code, `${what} holds NaN or infinite values`);
  return { x: arr.data, n: arr.shape[0]!, featureShape: arr.shape.slice(1) };
}

function parseJson(bytes: Uint8Array, what: string, code: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    return bad(code, `${what} is not JSON: ${(e as Error).message}`);
  }
}

/** The output width of the model's first output when the signature fixes it. */
const outputWidth = (sig: ModelSignature): number | null => {
  const last = sig.outputs[0]?.shape.at(-1);
  return typeof last === 'number' && last > 0 ? last : null;
};

/** Validates the uploads and computes the evidence by running `onnx`; throws a ConversionError naming the first problem. */
export async function computeEvidence(
  onnx: Uint8Array,
  sig: ModelSignature,
  input: ImportEvidenceInput,
  record: ImportRecord,
): Promise<ImportEvidence> {
  const rows = rowsFor(npy(input.reference, 'reference set', 'REFERENCE_INVALID'), sig, 'the reference set', 'REFERENCE_INVALID');
  if (rows.n < MIN_REFERENCE_ROWS)
    bad(
      'REFERENCE_INVALID',
      `the reference set has ${rows.n} rows; at least ${MIN_REFERENCE_ROWS} are needed for a profile (a few hundred representative rows is better)`,
    );
  let labels: string[] | null = null;
  if (input.labels) {
    const l = parseJson(input.labels, 'labels', 'LABELS_INVALID');
    if (!Array.isArray(l) || l.length === 0 || l.length > MAX_LABELS || l.some((x) => typeof x !== 'string' || !x))
      bad('LABELS_INVALID', 'labels must be a JSON array of non-empty class names in output order, e.g. ["cat", "dog"]');
    labels = l as string[];
  }
  let lineage: Record<string, unknown> | null = null;
  if (input.lineage) {
    if (input.lineage.byteLength > MAX_LINEAGE_BYTES)
      bad('LINEAGE_INVALID', `lineage is ${input.lineage.byteLength} bytes; at most ${MAX_LINEAGE_BYTES} are kept`);
    const l = parseJson(input.lineage, 'lineage', 'LINEAGE_INVALID');
    if (typeof l !== 'object' || l === null || Array.isArray(l))
      bad('LINEAGE_INVALID', 'lineage must be a JSON object, e.g. {"exporter": "torch.onnx", "repo": "...", "commit": "..."}');
    lineage = l as Record<string, unknown>;
  }
  let evaluation: (Rows & { y: Int32Array }) | undefined;
  if (input.evaluation || input.evaluationLabels) {
    if (!input.evaluation || !input.evaluationLabels)
      bad('EVALUATION_INVALID', 'give both held-out inputs (--eval) and their labels (--eval-labels), or neither');
    const ev = rowsFor(npy(input.evaluation!, 'held-out inputs', 'EVALUATION_INVALID'), sig, 'the held-out inputs', 'EVALUATION_INVALID');
    const y = npy(input.evaluationLabels!, 'held-out labels', 'EVALUATION_INVALID');
    if (y.shape.length !== 1 || y.shape[0] !== ev.n)
      bad(
        'EVALUATION_INVALID',
        `held-out labels have shape ${describeShape(y.shape)}; expected [${ev.n}] (one integer class per held-out row)`,
      );
    if (y.data.some((v) => !Number.isInteger(v) || v < 0))
      bad('EVALUATION_INVALID', 'held-out labels must be non-negative integer class indices');
    evaluation = { ...ev, y: Int32Array.from(y.data) };
  }
  const names = { input: sig.inputs[0]!.name, output: sig.outputs[0]?.name ?? bad('REFERENCE_INVALID', 'the model has no outputs') };
  let reference: RowsReference;
  try {
    reference = await referenceFromRows(onnx, rows, names, { evaluation });
  } catch (e) {
    return bad('REFERENCE_INVALID', `the model could not run on the reference set: ${(e as Error).message}`);
  }
  const width = outputWidth(sig) ?? reference.outputWidth;
  if (labels && labels.length !== width)
    bad('LABELS_INVALID', `${labels.length} labels for an output of width ${width}: give one class name per output column`);
  if (evaluation && evaluation.y.some((v) => v >= width))
    bad('EVALUATION_INVALID', `held-out labels must be below the output width ${width}`);
  const per = rows.featureShape.reduce((a, b) => a * b, 1);
  const selfTestInputs = Array.from({ length: Math.min(SELF_TESTS, rows.n) }, (_, i) =>
    Array.from(rows.x.subarray(i * per, (i + 1) * per)),
  );
  return {
    format: 'flotilla-evidence/1',
    record: { ...record, lineage },
    labels,
    featureShape: rows.featureShape,
    reference,
    selfTestInputs,
  };
}

// The preprocessing ops a manifest may name (SPEC §4.4 leaves op names to the agent): each compiles to a row transform.
import { BundleError, type JsonValue, type PreprocessingStep } from '@flotilla/firmware-bundler';

/** An in-place transform of one row; `dims` are the row's dimensions (no batch). */
export type RowOp = (row: Float32Array, dims: readonly number[]) => void;

/**
 * A compiled step: its transform (null for a pure shape change) and the row dims after it. Steps
 * that are one affine map for every element (x·a + b) say so in `affine`, so the pipeline can fold
 * a run of them into the copy from the app's row: one pass instead of several.
 */
export interface CompiledOp {
  apply: RowOp | null;
  dims: readonly number[];
  affine?: { a: number; b: number };
}

type Params = { [key: string]: JsonValue };

/**
 * The ops this agent implements, by manifest name:
 * - `scale` `{ factor, offset? }`: x·factor + offset (e.g. factor 1/255 for 8-bit pixels).
 * - `normalize` `{ mean, std, layout? }`: (x − mean)/std; mean and std are numbers or per-channel
 *   arrays, channels last (`layout: 'hwc'`, default) or first (`'chw'`).
 * - `clip` `{ min?, max? }`: clamps into [min, max].
 * - `reshape` `{ shape }`: the row takes this shape (same element count; no batch dimension).
 */
export const PREPROCESSING_OPS: Record<string, (params: Params, dims: readonly number[]) => CompiledOp> = {
  scale(p, dims) {
    const factor = num(p, 'factor', 1);
    const offset = num(p, 'offset', 0);
    return {
      dims,
      affine: { a: factor, b: offset },
      apply: (row) => {
        for (let i = 0; i < row.length; i++) row[i] = row[i]! * factor + offset;
      },
    };
  },
  normalize(p, dims) {
    const mean = vec(p, 'mean');
    const std = vec(p, 'std');
    if (std.some((s) => s === 0)) throw incompatible('normalize.std must not be 0');
    const layout = p.layout === 'chw' ? 'chw' : 'hwc';
    const channels = Math.max(mean.length, std.length);
    if (mean.length !== std.length && mean.length !== 1 && std.length !== 1)
      throw incompatible('normalize.mean and std must have the same length');
    const inv = Array.from({ length: channels }, (_, c) => 1 / (std[c] ?? std[0]!));
    const mu = Array.from({ length: channels }, (_, c) => mean[c] ?? mean[0]!);
    return {
      dims,
      ...(channels === 1 ? { affine: { a: inv[0]!, b: -mu[0]! * inv[0]! } } : {}),
      apply: (row) => {
        if (channels === 1) {
          const m = mu[0]!;
          const s = inv[0]!;
          for (let i = 0; i < row.length; i++) row[i] = (row[i]! - m) * s;
          return;
        }
        const plane = row.length / channels;
        for (let i = 0; i < row.length; i++) {
          const c = layout === 'hwc' ? i % channels : Math.floor(i / plane) % channels;
          row[i] = (row[i]! - mu[c]!) * inv[c]!;
        }
      },
    };
  },
  clip(p, dims) {
    const lo = num(p, 'min', -Infinity);
    const hi = num(p, 'max', Infinity);
    return {
      dims,
      apply: (row) => {
        for (let i = 0; i < row.length; i++) row[i] = Math.min(hi, Math.max(lo, row[i]!));
      },
    };
  },
  reshape(p, dims) {
    const shape = p.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && (d as number) > 0))
      throw incompatible('reshape.shape must be positive integers');
    const want = (shape as number[]).reduce((a, b) => a * b, 1);
    const have = dims.reduce((a, b) => a * b, 1);
    if (want !== have) throw incompatible(`reshape to [${shape.join(', ')}] needs ${want} values, the row has ${have}`);
    return { dims: shape as number[], apply: null };
  },
};

/** Compiles one manifest step; throws BUNDLE_RUNTIME_INCOMPATIBLE for an op or parameter this agent lacks. */
export function compileOp(step: PreprocessingStep, dims: readonly number[]): CompiledOp {
  const make = Object.hasOwn(PREPROCESSING_OPS, step.op) ? PREPROCESSING_OPS[step.op] : undefined;
  if (!make) throw incompatible(`preprocessing op ${JSON.stringify(step.op)} is not implemented by this agent`);
  return make(step.params ?? {}, dims);
}

function num(p: Params, key: string, fallback: number): number {
  const v = p[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw incompatible(`${key} must be a finite number`);
  return v;
}

function vec(p: Params, key: string): number[] {
  const v = p[key];
  const arr = typeof v === 'number' ? [v] : v;
  if (!Array.isArray(arr) || arr.length === 0 || !arr.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    throw incompatible(`normalize.${key} must be a number or a non-empty array of numbers`);
  }
  return arr as number[];
}

function incompatible(message: string): BundleError {
  return new BundleError('BUNDLE_RUNTIME_INCOMPATIBLE', `preprocessing: ${message}`, 'SPEC §10.2 R3');
}

// A manifest's preprocessing compiled once per model: raw app rows in, model input rows out.
import type { Preprocessing } from '@flotilla/firmware-bundler';
import { AgentError } from '../errors.ts';
import { compileOp, type RowOp } from './ops.ts';

/** A compiled preprocessing pipeline for one model input. */
export interface Pipeline {
  /** Values in one raw row (what the app passes per sample). */
  readonly rowSize: number;
  /** The row dims the model sees after preprocessing (no batch dimension). */
  readonly dims: readonly number[];
  /** Copies `src` into `dst` at `offset` and applies every step there. */
  apply(src: ArrayLike<number>, dst: Float32Array, offset: number): void;
}

/**
 * Compiles `pre.steps` for a row of `rowDims` (the model input's shape without its batch dimension).
 * Throws BUNDLE_RUNTIME_INCOMPATIBLE when a step is unknown or does not fit the shape.
 */
export function compilePipeline(pre: Preprocessing | undefined, rowDims: readonly number[]): Pipeline {
  let dims = rowDims;
  const ops: RowOp[] = [];
  const stepDims: (readonly number[])[] = [];
  // Leading affine steps (scale, one-channel normalize) fold into a single x·a + b done while copying.
  let a = 1;
  let b = 0;
  let folding = true;
  for (const step of pre?.steps ?? []) {
    const c = compileOp(step, dims);
    if (folding && c.affine) {
      a *= c.affine.a;
      b = b * c.affine.a + c.affine.b;
    } else if (c.apply) {
      folding = false;
      ops.push(c.apply);
      stepDims.push(dims);
    }
    dims = c.dims;
  }
  const rowSize = rowDims.reduce((x, y) => x * y, 1);
  const identity = a === 1 && b === 0;
  return {
    rowSize,
    dims,
    apply(src, dst, offset) {
      if (src.length !== rowSize) throw new AgentError('AGENT_INPUT_INVALID', `a row needs ${rowSize} values, got ${src.length}`);
      if (identity) dst.set(src, offset);
      else for (let i = 0; i < rowSize; i++) dst[offset + i] = src[i]! * a + b;
      if (ops.length === 0) return;
      const row = dst.subarray(offset, offset + rowSize);
      for (let i = 0; i < ops.length; i++) ops[i]!(row, stepDims[i]!);
    },
  };
}

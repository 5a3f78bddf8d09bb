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
  for (const step of pre?.steps ?? []) {
    const c = compileOp(step, dims);
    if (c.apply) {
      ops.push(c.apply);
      stepDims.push(dims);
    }
    dims = c.dims;
  }
  const rowSize = rowDims.reduce((a, b) => a * b, 1);
  return {
    rowSize,
    dims,
    apply(src, dst, offset) {
      if (src.length !== rowSize) throw new AgentError('AGENT_INPUT_INVALID', `a row needs ${rowSize} values, got ${src.length}`);
      const row = dst.subarray(offset, offset + rowSize);
      row.set(src);
      for (let i = 0; i < ops.length; i++) ops[i]!(row, stepDims[i]!);
    },
  };
}

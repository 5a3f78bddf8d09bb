// Preprocessing ops and pipelines: the manifest's steps in order, shapes checked, unknown ops refused.
import { isBundleError } from '@flotilla/firmware-bundler';
import { describe, expect, it } from 'vitest';
import { isAgentError } from '../errors.ts';
import { compilePipeline } from './pipeline.ts';

const run = (steps: { op: string; params?: Record<string, unknown> }[], dims: number[], row: number[]) => {
  const p = compilePipeline({ steps: steps as never }, dims);
  const out = new Float32Array(p.rowSize + 2);
  p.apply(row, out, 1);
  return { out: Array.from(out.subarray(1, 1 + p.rowSize)), dims: p.dims };
};

describe('preprocessing', () => {
  it('scales, normalizes per channel (hwc and chw) and clips, in order', () => {
    expect(run([{ op: 'scale', params: { factor: 1 / 255 } }], [2], [255, 51]).out).toEqual([1, expect.closeTo(0.2, 6)]);
    expect(
      run(
        [
          { op: 'scale', params: { factor: 2, offset: -1 } },
          { op: 'clip', params: { min: 0, max: 2 } },
        ],
        [3],
        [0, 1, 5],
      ).out,
    ).toEqual([0, 1, 2]);
    expect(run([{ op: 'normalize', params: { mean: [1, 2], std: [1, 2] } }], [2, 2], [1, 2, 3, 4]).out).toEqual([0, 0, 2, 1]);
    expect(run([{ op: 'normalize', params: { mean: [1, 2], std: [1, 2], layout: 'chw' } }], [2, 2], [1, 2, 3, 4]).out).toEqual([
      0, 1, 0.5, 1,
    ]);
  });

  it('folds leading affine steps into one pass with the same result as applying them in turn', () => {
    const steps = [
      { op: 'scale', params: { factor: 1 / 255 } },
      { op: 'normalize', params: { mean: 0.5, std: 0.25 } },
      { op: 'clip', params: { min: -1.5 } },
      { op: 'scale', params: { factor: 2 } },
    ];
    const out = run(steps, [3], [0, 127.5, 255]).out;
    expect(out).toEqual([-3, expect.closeTo(0, 5), expect.closeTo(4, 5)]);
  });

  it('reshapes without touching values, and checks the element count', () => {
    expect(run([{ op: 'reshape', params: { shape: [2, 2] } }], [4], [1, 2, 3, 4])).toEqual({ out: [1, 2, 3, 4], dims: [2, 2] });
    expect(() => compilePipeline({ steps: [{ op: 'reshape', params: { shape: [3] } }] }, [4])).toThrow(/needs 3 values/);
  });

  it('refuses an unknown op or bad parameter as BUNDLE_RUNTIME_INCOMPATIBLE (so verification fails before staging)', () => {
    for (const steps of [
      [{ op: 'resize' }],
      [{ op: 'normalize', params: { mean: 0, std: 0 } }],
      [{ op: 'scale', params: { factor: 'x' } }],
      [{ op: 'constructor' }],
    ]) {
      let err: unknown;
      try {
        compilePipeline({ steps: steps as never }, [4]);
      } catch (e) {
        err = e;
      }
      expect(isBundleError(err, 'BUNDLE_RUNTIME_INCOMPATIBLE'), JSON.stringify(steps)).toBe(true);
    }
  });

  it('rejects a row of the wrong size as AGENT_INPUT_INVALID', () => {
    const p = compilePipeline(undefined, [4]);
    let err: unknown;
    try {
      p.apply([1, 2, 3], new Float32Array(4), 0);
    } catch (e) {
      err = e;
    }
    expect(isAgentError(err, 'AGENT_INPUT_INVALID')).toBe(true);
  });
});

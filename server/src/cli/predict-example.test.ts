// The /v1/predict example worked out from a manifest: a real self-test row when one fits, zeros otherwise, none for open shapes.
import { describe, expect, it } from 'vitest';
import { predictExample, renderPredictExample } from './predict-example.ts';

const signature = {
  inputs: [{ name: 'x', dtype: 'float32' as const, shape: [null, 2, 2] }],
  outputs: [{ name: 'y', dtype: 'float32' as const, shape: [null, 3] }],
};

describe('predictExample', () => {
  it('uses the first self-test row that fits the input, and says so', () => {
    const e = predictExample({
      signature,
      labels: ['a', 'b', 'c'],
      selfTests: [
        { name: 'short', inputs: { x: [1, 2] }, expected: {}, tolerance: { abs: 0 } },
        { name: 'row', inputs: { x: [1, 2, 3, 4] }, expected: {}, tolerance: { abs: 0 } },
      ],
    });
    expect(e).toMatchObject({
      inputs: [{ name: 'x', rowSize: 4 }],
      outputs: [{ name: 'y', rowSize: 3 }],
      labels: ['a', 'b', 'c'],
      body: { input: [1, 2, 3, 4] },
    });
    expect(e.source).toBe("self-test vector 'row' of the bundle");
    const text = renderPredictExample(e, 'm@1', 9000);
    expect(text).toContain('input   x: float32 [N, 2, 2], one row = 4 numbers');
    expect(text).toContain('labels  a b c');
    expect(text).toContain("curl -s http://127.0.0.1:9000/v1/predict -H 'content-type: application/json' -d @predict.json");
  });

  it('falls back on zeros, and gives no body for an input with an open dimension', () => {
    expect(predictExample({ signature }).body).toEqual({ input: [0, 0, 0, 0] });
    const open = predictExample({ signature: { ...signature, inputs: [{ name: 'x', dtype: 'float32', shape: [null, null] }] } });
    expect(open).toMatchObject({ body: null, source: null, inputs: [{ rowSize: null }] });
    expect(renderPredictExample(open, 'm')).not.toContain('/v1/predict');
  });

  it('lists every input of a multi-input model and names the one the example fills', () => {
    const two = { ...signature, inputs: [...signature.inputs, { name: 'mask', dtype: 'int64' as const, shape: [null, 2] }] };
    const text = renderPredictExample(predictExample({ signature: two }), 'm');
    expect(text).toContain('input   mask: int64 [N, 2], one row = 2 numbers');
    expect(text).toContain("this model takes 2 inputs; the example fills 'x'");
  });
});

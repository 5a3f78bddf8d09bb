// The parity gate's thresholds, what it skips without labels, and how an override is recorded.
import { describe, expect, it } from 'vitest';
import type { ParityReport } from './evaluate-parity.ts';
import { parityGate } from './parity-gate.ts';

const report = (drop: number | null, agreement: number): ParityReport => ({
  float: { digest: 'a', bytes: 100, accuracy: drop === null ? null : 0.95, latencyUs: null },
  int8: { digest: 'b', bytes: 25, accuracy: drop === null ? null : 0.95 - drop / 100, latencyUs: null },
  sizeRatio: 0.25,
  samples: 1000,
  batchSize: 64,
  top1Agreement: agreement,
  accuracyDropPoints: drop,
  maxAbsDiff: 0.1,
  meanAbsDiff: 0.01,
  outputName: 'output',
  outputs: [
    { name: 'output', kind: 'classifier', top1Agreement: agreement, relativeL2: 0.01, cosine: 0.999, maxAbsDiff: 0.1, meanAbsDiff: 0.01 },
  ],
  runtime: 'onnxruntime-node 1.30.0',
  kernelSafety: { int8Tensors: 4, min: -63, max: 63, outside: [] },
});

describe('parityGate', () => {
  it('passes at the defaults (0.5 points, 99% agreement) and fails just beyond them', () => {
    expect(parityGate(report(0.5, 0.99))).toMatchObject({
      passed: true,
      allowed: true,
      failures: [],
      thresholds: { maxAccuracyDrop: 0.5, minTop1Agreement: 0.99, maxRelativeL2: 0.05, minCosine: 0.99 },
    });
    const failed = parityGate(report(0.51, 0.989));
    expect(failed.passed).toBe(false);
    expect(failed.allowed).toBe(false);
    expect(failed.failures).toHaveLength(2);
    expect(failed.failures[0]).toMatch(/0\.51 points/);
  });

  it('accepts custom thresholds and skips accuracy without labels', () => {
    expect(parityGate(report(0.8, 0.995), { maxAccuracyDrop: 1 }).passed).toBe(true);
    const unlabelled = parityGate(report(null, 0.995));
    expect(unlabelled).toMatchObject({ passed: true, skipped: ['accuracy drop (no labels)'] });
  });

  it('records who overrode a failed gate, why and when', () => {
    const d = parityGate(report(2, 0.9), {}, { by: 'ops@example.com', reason: 'pilot', at: '2026-01-02T03:04:05Z' });
    expect(d).toMatchObject({
      passed: false,
      allowed: true,
      override: { by: 'ops@example.com', reason: 'pilot', at: '2026-01-02T03:04:05Z' },
    });
    expect(parityGate(report(2, 0.9), {}, { by: 'x', reason: 'y' }).override?.at).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('judges each output on its own terms: top-1 for class scores, relative L2 and cosine for the rest, naming the output', () => {
    const r = report(0, 1);
    r.outputs = [
      { name: 'scores', kind: 'classifier', top1Agreement: 0.995, relativeL2: 0.3, cosine: 0.9, maxAbsDiff: 1, meanAbsDiff: 0.1 },
      { name: 'boxes', kind: 'tensor', relativeL2: 0.08, cosine: 0.985, maxAbsDiff: 3, meanAbsDiff: 0.5 },
    ];
    const d = parityGate(r);
    expect(d.failures).toEqual([
      expect.stringMatching(/relative L2 error 0\.0800 on output 'boxes' is above 0\.05/),
      expect.stringMatching(/cosine similarity 0\.9850 on output 'boxes' is below 0\.99/),
    ]);
    expect(parityGate(r, { maxRelativeL2: 0.1, minCosine: 0.98 }).passed).toBe(true);
    // A regression output whose int8 values are wrong cannot pass through a meaningless 100% "top-1" agreement.
    const regression = report(null, 1);
    regression.outputs = [{ name: 'value', kind: 'tensor', relativeL2: 0.4, cosine: 0.7, maxAbsDiff: 2, meanAbsDiff: 1 }];
    expect(parityGate(regression).passed).toBe(false);
    // NaN from a broken model is a failure, not a pass.
    regression.outputs = [{ name: 'value', kind: 'tensor', relativeL2: NaN, cosine: NaN, maxAbsDiff: Infinity, meanAbsDiff: NaN }];
    expect(parityGate(regression).failures).toHaveLength(2);
  });
});

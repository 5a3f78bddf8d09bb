// Calibration chosen per model: methods are tried in order until one meets the gate, the report shows how each fared.
import { describe, expect, it } from 'vitest';
import { quantizeWithReport } from '../quantize-with-report.ts';
import { pytorchLikeMlp, randomNormal } from '../testing/onnx-fixtures.ts';

/** Inputs with heavy tails: one row in fifty carries a value twenty times the usual size. */
function heavyTailed(n: number, seed: number): { data: Float32Array; shape: number[] } {
  const data = randomNormal(n * 12, seed);
  for (let r = 0; r < n; r += 50) data[r * 12 + (r % 12)] = 20;
  return { data, shape: [n, 12] };
}

describe('calibration method auto', () => {
  const request = (gate?: { minTop1Agreement: number }) => ({
    floatBytes: pytorchLikeMlp(),
    calibration: heavyTailed(400, 5),
    evaluation: { inputs: heavyTailed(500, 6) },
    mode: 'static' as const,
    calibrationSettings: { method: 'auto' as const },
    ...(gate ? { gate } : {}),
  });

  it('keeps min-max when it already meets the gate on the calibration samples, without trying the others', async () => {
    const { report } = await quantizeWithReport(request({ minTop1Agreement: 0.5 }));
    expect(report.calibrationCandidates).toEqual([expect.objectContaining({ method: 'minmax', meetsGate: true })]);
    expect(report.calibration!.method).toBe('minmax');
  });

  it('tries min-max, entropy and percentile when none meets the gate, and keeps the closest to float', async () => {
    // Agreement above 100% cannot be met, so every method is tried and compared.
    const { report } = await quantizeWithReport(request({ minTop1Agreement: 1.01 }));
    const c = report.calibrationCandidates!;
    expect(c.map((x) => x.method)).toEqual(['minmax', 'entropy', 'percentile']);
    expect(c.every((x) => !x.meetsGate && x.relativeL2 > 0)).toBe(true);
    const bestAgreement = Math.max(...c.map((x) => x.top1Agreement!));
    const best = c.filter((x) => x.top1Agreement === bestAgreement).sort((a, b) => a.relativeL2 - b.relativeL2)[0]!;
    expect(report.calibration!.method).toBe(best.method);
  });
});

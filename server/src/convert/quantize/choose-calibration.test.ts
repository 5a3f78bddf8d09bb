// Calibration chosen per model: every method is tried, the report shows how each fared, and the kept model is the best.
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
  it('tries min-max, percentile and entropy and keeps the one closest to float on the calibration samples', async () => {
    const { report } = await quantizeWithReport({
      floatBytes: pytorchLikeMlp(),
      calibration: heavyTailed(400, 5),
      evaluation: { inputs: heavyTailed(500, 6) },
      mode: 'static',
      calibrationSettings: { method: 'auto' },
    });
    const c = report.calibrationCandidates!;
    expect(c.map((x) => x.method)).toEqual(['minmax', 'percentile', 'entropy']);
    const bestAgreement = Math.max(...c.map((x) => x.top1Agreement!));
    const best = c.filter((x) => x.top1Agreement === bestAgreement).sort((a, b) => a.relativeL2 - b.relativeL2)[0]!;
    expect(report.calibration!.method).toBe(best.method);
    for (const x of c) expect(x.relativeL2).toBeGreaterThan(0);
  });
});

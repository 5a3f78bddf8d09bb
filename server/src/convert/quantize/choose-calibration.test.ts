// Calibration chosen per model: methods are tried in order, with 7-bit int8 then 8-bit uint8 weights, until one meets the
// gate, then mixed precision; the report
// shows how each candidate fared, which activations stayed float and why, and whether int8 is slower than float.
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
  const request = (gate?: { minTop1Agreement: number; maxRelativeL2?: number }) => ({
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

  it('tries min-max, entropy and percentile, then weights alone, with int8 and then uint8 weights; when nothing meets the gate, keeps the closest', async () => {
    // Agreement above 100% cannot be met, so every method is tried and compared.
    const { report } = await quantizeWithReport(request({ minTop1Agreement: 1.01 }));
    const c = report.calibrationCandidates!;
    const name = (x: (typeof c)[number]) => `${x.weightType} ${x.floatActivations === undefined ? x.method : 'weights alone'}`;
    // Mixed precision starts from its far end (every activation float); when that fails too, there is no bisection.
    expect(c.map(name)).toEqual([
      'int8 minmax',
      'int8 entropy',
      'int8 percentile',
      'int8 weights alone',
      'uint8 minmax',
      'uint8 entropy',
      'uint8 percentile',
      'uint8 weights alone',
    ]);
    expect(c.every((x) => !x.meetsGate && x.relativeL2 > 0)).toBe(true);
    const methods = c.filter((x) => x.floatActivations === undefined);
    const bestAgreement = Math.max(...methods.map((x) => x.top1Agreement!));
    const best = methods.filter((x) => x.top1Agreement === bestAgreement).sort((a, b) => a.relativeL2 - b.relativeL2)[0]!;
    expect(report.calibration!.method).toBe(best.method);
    expect(report.scheme.weightType).toBe(best.weightType);
    expect(report.keptFloat).toBeUndefined();
  });

  it('leaves the fewest noisiest activations float that meet the gate (mixed precision), each named with its reason', async () => {
    // Measured on this fixture: fully int8 the logits are ~3.3% off float (relative L2), with int8 weights alone ~1.9%;
    // a 2.5% limit therefore needs mixed precision.
    const { report } = await quantizeWithReport(request({ minTop1Agreement: 0.98, maxRelativeL2: 0.025 }));
    const c = report.calibrationCandidates!;
    expect(c.filter((x) => x.floatActivations === undefined).every((x) => !x.meetsGate)).toBe(true);
    // Measured: int8 weights alone meet it, so uint8 weights are never tried.
    expect(c.every((x) => x.weightType === 'int8')).toBe(true);
    const mixed = c.filter((x) => x.floatActivations !== undefined);
    const meeting = mixed.filter((x) => x.meetsGate).map((x) => x.floatActivations!);
    const failing = mixed.filter((x) => !x.meetsGate).map((x) => x.floatActivations!);
    expect(meeting.length).toBeGreaterThan(0);
    const kept = Math.min(...meeting);
    // Bisection: one fewer float activation failed (or none at all, which the methods above already showed).
    expect(kept === 1 || failing.includes(kept - 1)).toBe(true);
    expect(report.keptFloat).toHaveLength(kept);
    for (const k of report.keptFloat!) {
      expect(k.tensor).not.toBe('');
      expect(k.reason).toMatch(/mixed precision.*noise/);
    }
    expect(report.mode).toBe('static');
  });

  it('says in the report whether int8 runs slower than float on this CPU, before anything is bundled', async () => {
    const { report } = await quantizeWithReport(request({ minTop1Agreement: 0.5 }));
    const s = report.speed!;
    const p = report.parity;
    expect(s.batch1Speedup).toBeCloseTo(p.float.latencyUs!.batch1 / p.int8.latencyUs!.batch1, 1);
    expect(s.slower).toBe(s.batch1Speedup < 1);
    expect(s.note).toMatch(s.slower ? /slower than float/ : /as fast as float/);
  });
});

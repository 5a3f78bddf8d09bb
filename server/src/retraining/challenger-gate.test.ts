// The challenger gate: the pure pass/fail table, then the same decisions on hand-built ONNX models run by onnxruntime-node.
import { describe, expect, it } from 'vitest';
import { evaluateChallenger, judgeChallenger } from './challenger-gate.ts';
import { onnxAccuracy } from './onnx-accuracy.ts';
import { classifier, cleanRows, snowyRows, WEIGHTS } from '@flotilla/test/support/retraining-test-kit';

const champion = { field: 0.8, test: 0.97 };

describe('judgeChallenger', () => {
  it.each([
    ['beats on field, holds on test, parity passed', { field: 0.9, test: 0.965 }, true, true, []],
    ['beats on field but regresses on the test split', { field: 0.95, test: 0.94 }, true, false, ['test accuracy']],
    ['worse challenger', { field: 0.75, test: 0.9 }, true, false, ['field accuracy', 'test accuracy']],
    ['gains less than the margin', { field: 0.81, test: 0.97 }, true, false, ['field accuracy']],
    ['parity failed', { field: 0.9, test: 0.97 }, false, false, ['parity']],
  ])('%s', (_name, challenger, parityPassed, blessed, reasons) => {
    const v = judgeChallenger({ champion, challenger, parityPassed });
    expect(v.blessed).toBe(blessed);
    expect(v.failures).toHaveLength(reasons.length);
    reasons.forEach((r, i) => expect(v.failures[i]).toContain(r));
  });

  it('applies the default margin (2 points) and tolerance (1 point) at their edges', () => {
    expect(judgeChallenger({ champion, challenger: { field: 0.82, test: 0.96 }, parityPassed: true }).blessed).toBe(true);
    expect(judgeChallenger({ champion, challenger: { field: 0.82, test: 0.959 }, parityPassed: true }).blessed).toBe(false);
    expect(judgeChallenger({ champion, challenger: { field: 0.819, test: 0.97 }, parityPassed: true }).blessed).toBe(false);
    expect(judgeChallenger({ champion, challenger: { field: 0.85, test: 0.97 }, parityPassed: true }, { margin: 10 }).blessed).toBe(false);
  });

  it('refuses when there is no field holdout', () => {
    const v = judgeChallenger({ champion: { field: null, test: 1 }, challenger: { field: null, test: 1 }, parityPassed: true });
    expect(v.failures).toEqual(['no field holdout to compare on']);
  });
});

describe('evaluateChallenger on onnxruntime', () => {
  const holdout = snowyRows(20);
  const test = cleanRows(20);

  it('measures top-1 accuracy', async () => {
    expect(await onnxAccuracy(classifier(WEIGHTS.champion), test)).toBe(1);
    expect(await onnxAccuracy(classifier(WEIGHTS.champion), holdout)).toBe(0);
    expect(await onnxAccuracy(classifier(WEIGHTS.good), holdout)).toBe(1);
  });

  it.each([
    ['a challenger that learned the snow', WEIGHTS.good, true, true],
    ['one that fixes the field but breaks the test split', WEIGHTS.swapped, true, false],
    ['one no better than the champion', WEIGHTS.champion, true, false],
    ['a good one whose int8 bundle failed parity', WEIGHTS.good, false, false],
  ])('%s', async (_name, w, parityPassed, blessed) => {
    const v = await evaluateChallenger({
      championInt8: classifier(WEIGHTS.champion),
      challengerInt8: classifier(w),
      holdout,
      test,
      parityPassed,
    });
    expect(v.blessed).toBe(blessed);
  });
});

// Request validation and defaults, the shorthands, targets, pacing and per-device states.
import { describe, expect, it } from 'vitest';
import { nextDeviceState } from './device-state.ts';
import { notifyAllowance } from './rate-limit.ts';
import { DEFAULT_GATES, parseDuration, parseRolloutRequest, parseStagesShorthand } from './rollout-spec.ts';
import { matchesTarget, parseTargetShorthand } from './target.ts';

const code = (fn: () => unknown) => {
  try {
    fn();
    return null;
  } catch (e) {
    return (e as { code: string }).code;
  }
};

describe('rollout request', () => {
  it('fills every default', () => {
    const spec = parseRolloutRequest({ model: 'digits@3', target: { tags: ['car'] }, stages: parseStagesShorthand('10,50,100') });
    expect(spec.policy).toEqual({
      advance: 'auto',
      onGateFail: 'pause',
      includeLateJoiners: true,
      rate: { devicesPerMinute: 1000, rampFactor: 1 },
    });
    expect(spec.stages[0]).toEqual({ percent: 10, bakeSec: 600, timeoutSec: 3600, shadow: false, gates: DEFAULT_GATES });
    expect(DEFAULT_GATES).toEqual({
      minReporting: 0.8,
      maxFailureRate: 0.05,
      maxErrorRate: 0.02,
      maxP95LatencyMs: null,
      maxConfidenceDrop: 0.05,
      maxDriftScore: 0.2,
      maxDisagreement: 0.1,
      minRequests: 50,
      minDriftSamples: 200,
    });
    expect([spec.supersede, spec.draft, spec.reason]).toEqual([false, false, '']);
  });

  it('keeps given gates and defaults the rest', () => {
    const spec = parseRolloutRequest({
      bundle: 'abcdef012345',
      target: { all: true },
      stages: [{ count: 5, gates: { maxErrorRate: 0.01, maxDriftScore: null } }],
    });
    expect(spec.stages[0]!.gates).toEqual({ ...DEFAULT_GATES, maxErrorRate: 0.01, maxDriftScore: null });
  });

  it.each([
    { why: 'no bundle or model', req: { target: { all: true }, stages: [{ percent: 100 }] } },
    { why: 'both bundle and model', req: { bundle: 'abcdef012345', model: 'm@1', target: { all: true }, stages: [{ percent: 100 }] } },
    { why: 'empty target', req: { model: 'm@1', target: {}, stages: [{ percent: 100 }] } },
    { why: 'percents shrink', req: { model: 'm@1', target: { all: true }, stages: [{ percent: 50 }, { percent: 10 }] } },
    { why: 'percent and count', req: { model: 'm@1', target: { all: true }, stages: [{ percent: 5, count: 5 }] } },
    { why: 'percent over 100', req: { model: 'm@1', target: { all: true }, stages: [{ percent: 150 }] } },
    { why: 'failure rate over 1', req: { model: 'm@1', target: { all: true }, stages: [{ percent: 100, gates: { maxFailureRate: 2 } }] } },
    { why: 'unknown policy', req: { model: 'm@1', target: { all: true }, stages: [{ percent: 100 }], policy: { advance: 'yolo' } } },
    {
      why: 'negative rate',
      req: { model: 'm@1', target: { all: true }, stages: [{ percent: 100 }], policy: { rate: { devicesPerMinute: -1 } } },
    },
  ])('refuses $why with INVALID_ROLLOUT', ({ req }) => {
    expect(code(() => parseRolloutRequest(req))).toBe('INVALID_ROLLOUT');
  });

  it('parses --stages and --bake shorthands', () => {
    expect(parseStagesShorthand('shadow:5, 10%,20d,100', 90)).toEqual([
      { percent: 5, bakeSec: 90, shadow: true },
      { percent: 10, bakeSec: 90 },
      { count: 20, bakeSec: 90 },
      { percent: 100, bakeSec: 90 },
    ]);
    expect(code(() => parseStagesShorthand('10,half'))).toBe('INVALID_ROLLOUT');
    expect(code(() => parseStagesShorthand(''))).toBe('INVALID_ROLLOUT');
    expect([parseDuration('90'), parseDuration('10m'), parseDuration('2h'), parseDuration('1d')]).toEqual([90, 600, 7200, 86400]);
    expect(code(() => parseDuration('soon'))).toBe('INVALID_ROLLOUT');
  });
});

describe('targets', () => {
  const car = { id: 'd1', tags: ['car', 'eu'], groups: ['fleet-a'], attributes: { region: 'north' } };
  it.each([
    ['tag=car', true],
    ['tag=car,tag=eu', true],
    ['tag=car,tag=us', false],
    ['group=fleet-b,group=fleet-a', true],
    ['device=d2', false],
    ['attr.region=north,tag=car', true],
    ['attr.region=south', false],
    ['all', true],
    ['id=d1', true],
    ['id=d2', false],
    ['devices=d1', true],
    ['tags=car', true],
  ])('%s matches: %s', (text, expected) => {
    expect(matchesTarget(car, parseTargetShorthand(text))).toBe(expected);
  });
  it.each(['', 'car', 'color=red', 'tag='])('refuses target %j', (text) => {
    expect(code(() => parseTargetShorthand(text))).toBe('INVALID_ROLLOUT');
  });
  it('reads id= as device=', () => {
    expect(parseTargetShorthand('id=cam-1,device=cam-2')).toEqual({ deviceIds: ['cam-1', 'cam-2'] });
  });
});

describe('pacing and device states', () => {
  it.each([
    [
      { devicesPerMinute: 10, rampFactor: 1 },
      [
        [0, 10],
        [59, 10],
        [60, 20],
        [600, 110],
        [-1, 0],
      ],
    ],
    [
      { devicesPerMinute: 2, rampFactor: 3 },
      [
        [0, 2],
        [60, 8],
        [120, 26],
      ],
    ],
    [
      { devicesPerMinute: 0.5, rampFactor: 1 },
      [
        [0, 0],
        [60, 1],
        [180, 2],
      ],
    ],
  ])('allowance at %j', (rate, table) => {
    for (const [sec, n] of table) expect([sec, notifyAllowance(rate, sec!)]).toEqual([sec, n]);
  });

  it.each([
    ['notified', 'idle', 'downloading', 'downloading'],
    ['probing', 'probing', 'committing', 'committing'],
    ['committing', 'committing', 'idle', 'updated'],
    ['probing', 'rolling_back', 'idle', 'failed'],
    ['downloading', 'downloading', 'failed', 'failed'],
    ['rollback_pending', 'committing', 'idle', 'rolled_back'],
    ['rollback_pending', 'idle', 'downloading', 'rollback_pending'],
    ['planned', 'idle', 'downloading', 'planned'],
    ['superseded', 'committing', 'idle', 'superseded'],
    ['updated', 'idle', 'idle', 'updated'],
  ] as const)('%s + %s→%s = %s', (current, from, to, expected) => {
    expect(nextDeviceState(current, { from, to })).toBe(expected);
  });
});

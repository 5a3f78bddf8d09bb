// The transition table (every legal row and a sample of refusals) and the gate verdict.
import { describe, expect, it } from 'vitest';
import {
  allowedEvents,
  describeShort,
  evaluateGates,
  transition,
  type RolloutEvent,
  type RolloutState,
  type StageStats,
} from './rollout-machine.ts';
import { DEFAULT_GATES } from './rollout-spec.ts';

describe('transition table', () => {
  it.each([
    ['draft', 'start', 'running'],
    ['draft', 'abort', 'aborted'],
    ['running', 'stage_passed', 'running'],
    ['running', 'await_approval', 'waiting_approval'],
    ['running', 'finish', 'completed'],
    ['running', 'gate_failed', 'paused'],
    ['running', 'gate_failed_abort', 'aborted'],
    ['running', 'insufficient_evidence', 'paused'],
    ['running', 'pause', 'paused'],
    ['running', 'advance', 'running'],
    ['running', 'abort', 'aborted'],
    ['running', 'rollback', 'rolled_back'],
    ['waiting_approval', 'advance', 'running'],
    ['waiting_approval', 'pause', 'paused'],
    ['paused', 'resume', 'running'],
    ['paused', 'advance', 'running'],
    ['paused', 'rollback', 'rolled_back'],
    ['aborted', 'rollback', 'rolled_back'],
  ] as [RolloutState, RolloutEvent, RolloutState][])('rollout %s --%s--> %s', (from, event, to) => {
    expect(transition('rollout', from, event)).toBe(to);
  });

  it.each([
    ['draft', 'advance'],
    ['draft', 'rollback'],
    ['running', 'resume'],
    ['running', 'start'],
    ['paused', 'pause'],
    ['waiting_approval', 'resume'],
    ['completed', 'rollback'],
    ['completed', 'pause'],
    ['aborted', 'resume'],
    ['rolled_back', 'rollback'],
  ] as [RolloutState, RolloutEvent][])('rollout %s refuses %s with ILLEGAL_TRANSITION', (from, event) => {
    expect(() => transition('rollout', from, event)).toThrow(expect.objectContaining({ code: 'ILLEGAL_TRANSITION', status: 409 }));
  });

  it('stages: pending → active → passed|failed → rolled_back, nothing else', () => {
    expect(transition('stage', 'pending', 'activate')).toBe('active');
    expect(transition('stage', 'active', 'pass')).toBe('passed');
    expect(transition('stage', 'failed', 'rollback')).toBe('rolled_back');
    expect(() => transition('stage', 'pending', 'pass')).toThrow(expect.objectContaining({ code: 'ILLEGAL_TRANSITION' }));
    expect(() => transition('stage', 'passed', 'activate')).toThrow(expect.objectContaining({ code: 'ILLEGAL_TRANSITION' }));
  });

  it('completed and rolled_back are final', () => {
    expect(allowedEvents('rollout', 'completed')).toEqual([]);
    expect(allowedEvents('rollout', 'rolled_back')).toEqual([]);
    expect(allowedEvents('rollout', 'paused')).toEqual(['resume', 'advance', 'abort', 'rollback']);
  });
});

describe('evaluateGates', () => {
  const ok: StageStats = {
    devices: 10,
    failed: 0,
    reporting: 10,
    requests: 1000,
    errors: 1,
    clientErrors: 0,
    driftSamples: 1000,
    errorRate: 0.001,
    p95LatencyMs: 20,
    confidenceDrop: 0.01,
    driftScore: 0.05,
    disagreement: 0.5,
  };
  const plain = { shadow: false, gates: DEFAULT_GATES };
  const shadow = { shadow: true, gates: DEFAULT_GATES };

  it.each([
    { why: 'healthy (disagreement ignored outside shadow stages)', stage: plain, stats: {}, pass: true, state: 'pass', failures: [] },
    {
      why: 'error rate too high',
      stage: plain,
      stats: { errorRate: 0.1 },
      pass: false,
      state: 'fail',
      failures: [{ gate: 'maxErrorRate', value: 0.1, limit: 0.02 }],
    },
    {
      why: 'two gates fail',
      stage: plain,
      stats: { confidenceDrop: 0.2, driftScore: 0.9 },
      pass: false,
      state: 'fail',
      failures: [
        { gate: 'maxConfidenceDrop', value: 0.2, limit: 0.05 },
        { gate: 'maxDriftScore', value: 0.9, limit: 0.2 },
      ],
    },
    {
      why: 'install failures',
      stage: plain,
      stats: { failed: 1 },
      pass: false,
      state: 'fail',
      failures: [{ gate: 'maxFailureRate', value: 0.1, limit: 0.05 }],
    },
    {
      why: 'too few reporting: wait',
      stage: plain,
      stats: { reporting: 7, errorRate: 0.9 },
      pass: false,
      state: 'waiting',
      failures: [],
      insufficient: true,
      waiting: [{ gate: 'minReporting', have: 7, need: 8, unit: 'devices' }],
    },
    {
      why: 'install failures count even with few reporting',
      stage: plain,
      stats: { reporting: 1, failed: 2 },
      pass: false,
      state: 'fail',
      failures: [{ gate: 'maxFailureRate', value: 0.2, limit: 0.05 }],
      insufficient: true,
      waiting: [{ gate: 'minReporting', have: 1, need: 8, unit: 'devices' }],
    },
    {
      why: 'metric not measured: wait',
      stage: plain,
      stats: { driftScore: null, driftSamples: 0 },
      pass: false,
      state: 'waiting',
      failures: [],
      insufficient: true,
      missing: ['maxDriftScore'],
      waiting: [{ gate: 'maxDriftScore', have: 0, need: 200, unit: 'drift samples' }],
    },
    {
      why: 'shadow disagreement above the limit',
      stage: shadow,
      stats: {},
      pass: false,
      state: 'fail',
      failures: [{ gate: 'maxDisagreement', value: 0.5, limit: 0.1 }],
    },
    {
      why: 'shadow: no confidence or drift needed',
      stage: shadow,
      stats: { disagreement: 0.05, confidenceDrop: null, driftScore: null },
      pass: true,
      state: 'pass',
      failures: [],
    },
    {
      why: 'a null limit turns a gate off',
      stage: { shadow: false, gates: { ...DEFAULT_GATES, maxErrorRate: null } },
      stats: { errorRate: null },
      pass: true,
      state: 'pass',
      failures: [],
    },
    {
      why: 'p95 gated when set',
      stage: { shadow: false, gates: { ...DEFAULT_GATES, maxP95LatencyMs: 15 } },
      stats: {},
      pass: false,
      state: 'fail',
      failures: [{ gate: 'maxP95LatencyMs', value: 20, limit: 15 }],
    },
    { why: 'an empty stage passes', stage: plain, stats: { devices: 0, reporting: 0 }, pass: true, state: 'pass', failures: [] },
    // Issue 19: one device, one error among four calls is not a 25% error rate, and PSI of 3 images is not drift.
    {
      why: 'one error in 4 requests and drift on 3 rows: wait, do not fail',
      stage: plain,
      stats: { devices: 1, reporting: 1, requests: 4, errors: 1, errorRate: 0.25, driftSamples: 3, driftScore: 1.7 },
      pass: false,
      state: 'waiting',
      failures: [],
      insufficient: true,
      waiting: [
        { gate: 'maxErrorRate', have: 4, need: 50, unit: 'requests' },
        { gate: 'maxConfidenceDrop', have: 4, need: 50, unit: 'requests' },
        { gate: 'maxDriftScore', have: 3, need: 200, unit: 'drift samples' },
      ],
    },
    {
      why: 'errors already too many for any outcome of the minimum: fail at once',
      stage: plain,
      stats: { devices: 1, reporting: 1, requests: 10, errors: 10, errorRate: 1, driftSamples: 1000 },
      pass: false,
      state: 'fail',
      failures: [{ gate: 'maxErrorRate', value: 1, limit: 0.02 }],
      insufficient: true,
      waiting: [{ gate: 'maxConfidenceDrop', have: 10, need: 50, unit: 'requests' }],
    },
    {
      why: 'shadow disagreement on too few shadow runs: wait',
      stage: shadow,
      stats: { requests: 5, errors: 0, errorRate: 0, disagreement: 0.6 },
      pass: false,
      state: 'waiting',
      failures: [],
      insufficient: true,
      waiting: [
        { gate: 'maxErrorRate', have: 5, need: 50, unit: 'requests' },
        { gate: 'maxDisagreement', have: 5, need: 50, unit: 'requests' },
      ],
    },
  ])('$why', ({ why: _why, stage, stats, ...expected }) => {
    expect(evaluateGates(stage, { ...ok, ...stats })).toEqual(expected);
  });

  it('judges stored specs without the evidence fields on the defaults, and health ports that count no evidence on the value alone', () => {
    const { minRequests: _r, minDriftSamples: _d, ...old } = DEFAULT_GATES;
    const few = { ...ok, requests: 4, errors: 0 };
    expect(evaluateGates({ shadow: false, gates: old as never }, few).waiting?.[0]).toEqual({
      gate: 'maxErrorRate',
      have: 4,
      need: 50,
      unit: 'requests',
    });
    const { requests: _q, errors: _e, driftSamples: _s, ...uncounted } = ok;
    expect(evaluateGates(plain, uncounted).state).toBe('pass');
  });

  it('describes what a waiting verdict still needs', () => {
    expect(
      describeShort([
        { gate: 'maxErrorRate', have: 3, need: 50, unit: 'requests' },
        { gate: 'minReporting', have: 0, need: 1, unit: 'devices' },
      ]),
    ).toBe('3 of 50 requests for maxErrorRate; 0 of 1 devices for minReporting');
  });
});

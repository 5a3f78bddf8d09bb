// The transition table (every legal row and a sample of refusals) and the gate verdict.
import { describe, expect, it } from 'vitest';
import { allowedEvents, evaluateGates, transition, type RolloutEvent, type RolloutState, type StageStats } from './rollout-machine.ts';
import { DEFAULT_GATES } from './rollout-spec.ts';

describe('transition table', () => {
  it.each([
    ['draft', 'start', 'running'], ['draft', 'abort', 'aborted'],
    ['running', 'stage_passed', 'running'], ['running', 'await_approval', 'waiting_approval'], ['running', 'finish', 'completed'],
    ['running', 'gate_failed', 'paused'], ['running', 'gate_failed_abort', 'aborted'], ['running', 'pause', 'paused'],
    ['running', 'advance', 'running'], ['running', 'abort', 'aborted'], ['running', 'rollback', 'rolled_back'],
    ['waiting_approval', 'advance', 'running'], ['waiting_approval', 'pause', 'paused'], ['paused', 'resume', 'running'],
    ['paused', 'advance', 'running'], ['paused', 'rollback', 'rolled_back'], ['aborted', 'rollback', 'rolled_back'],
  ] as [RolloutState, RolloutEvent, RolloutState][])('rollout %s --%s--> %s', (from, event, to) => {
    expect(transition('rollout', from, event)).toBe(to);
  });

  it.each([
    ['draft', 'advance'], ['draft', 'rollback'], ['running', 'resume'], ['running', 'start'], ['paused', 'pause'],
    ['waiting_approval', 'resume'], ['completed', 'rollback'], ['completed', 'pause'], ['aborted', 'resume'], ['rolled_back', 'rollback'],
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
  const ok: StageStats = { devices: 10, failed: 0, reporting: 10, errorRate: 0.001, p95LatencyMs: 20, confidenceDrop: 0.01, driftScore: 0.05, disagreement: 0.5 };
  const plain = { shadow: false, gates: DEFAULT_GATES };
  const shadow = { shadow: true, gates: DEFAULT_GATES };

  it.each([
    { why: 'healthy (disagreement ignored outside shadow stages)', stage: plain, stats: {}, pass: true, failures: [] },
    { why: 'error rate too high', stage: plain, stats: { errorRate: 0.1 }, pass: false, failures: [{ gate: 'maxErrorRate', value: 0.1, limit: 0.02 }] },
    { why: 'two gates fail', stage: plain, stats: { confidenceDrop: 0.2, driftScore: 0.9 }, pass: false, failures: [{ gate: 'maxConfidenceDrop', value: 0.2, limit: 0.05 }, { gate: 'maxDriftScore', value: 0.9, limit: 0.2 }] },
    { why: 'install failures', stage: plain, stats: { failed: 1 }, pass: false, failures: [{ gate: 'maxFailureRate', value: 0.1, limit: 0.05 }] },
    { why: 'too few reporting: wait', stage: plain, stats: { reporting: 7, errorRate: 0.9 }, pass: false, failures: [], insufficient: true },
    { why: 'install failures count even with few reporting', stage: plain, stats: { reporting: 1, failed: 2 }, pass: false, failures: [{ gate: 'maxFailureRate', value: 0.2, limit: 0.05 }], insufficient: true },
    { why: 'metric not measured: wait', stage: plain, stats: { driftScore: null }, pass: false, failures: [], insufficient: true, missing: ['maxDriftScore'] },
    { why: 'shadow disagreement above the limit', stage: shadow, stats: {}, pass: false, failures: [{ gate: 'maxDisagreement', value: 0.5, limit: 0.1 }] },
    { why: 'shadow: no confidence or drift needed', stage: shadow, stats: { disagreement: 0.05, confidenceDrop: null, driftScore: null }, pass: true, failures: [] },
    { why: 'a null limit turns a gate off', stage: { shadow: false, gates: { ...DEFAULT_GATES, maxErrorRate: null } }, stats: { errorRate: null }, pass: true, failures: [] },
    { why: 'p95 gated when set', stage: { shadow: false, gates: { ...DEFAULT_GATES, maxP95LatencyMs: 15 } }, stats: {}, pass: false, failures: [{ gate: 'maxP95LatencyMs', value: 20, limit: 15 }] },
    { why: 'an empty stage passes', stage: plain, stats: { devices: 0, reporting: 0 }, pass: true, failures: [] },
  ])('$why', ({ why: _why, stage, stats, ...expected }) => {
    expect(evaluateGates(stage, { ...ok, ...stats })).toEqual(expected);
  });
});

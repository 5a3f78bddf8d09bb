// One window's counts: latency percentiles and histogram, classes, confidence bins, errors, feedback.
import { TelemetryWindow } from '@flotilla/firmware-bundler/wire';
import { describe, expect, it } from 'vitest';
import { LatencyStats, RESERVOIR_SIZE } from './latency-stats.ts';
import { WindowAggregator } from './window-aggregator.ts';

describe('telemetry window', () => {
  it('counts requests, errors, classes, confidence and feedback into a valid message [WIRE-2.5]', () => {
    const w = new WindowAggregator(Date.parse('2030-01-01T00:00:00Z'), null);
    const x = new Float32Array(4);
    w.recordPrediction(x, 0, 2, 0.95, 1.5);
    w.recordPrediction(x, 0, 0, 0.31, 0.2);
    w.recordPrediction(x, 0, 2, 1, 3);
    w.recordError(4, 2);
    w.recordFeedback(2, true);
    w.recordFeedback(0, false);
    const m = w.close(7, Date.parse('2030-01-01T00:01:00Z'), 3);
    expect(TelemetryWindow.safeParse(m).success).toBe(true);
    expect(m).toMatchObject({
      seq: 7,
      requests: 5,
      errors: 2,
      predictions: [1, 0, 2],
      feedback: { labelled: 2, correct: 1, byClass: { labelled: [1, 0, 1], correct: [0, 0, 1] } },
      dropped: 3,
      end: '2030-01-01T00:01:00.000Z',
    });
    expect(m.confidence.counts[3]).toBe(1);
    expect(m.confidence.counts[9]).toBe(2);
    expect(m.latencyMs.hist.counts.reduce((a, b) => a + b, 0)).toBe(5);
    expect(m.latencyMs.p50).toBe(3);
  });

  it('counts bad input apart from model errors: neither a request nor an error [WIRE-2.5.2]', () => {
    const w = new WindowAggregator(Date.parse('2030-01-01T00:00:00Z'), null);
    w.recordPrediction(new Float32Array(4), 0, 1, 0.9, 1);
    w.recordClientError();
    w.recordClientError(3);
    const m = w.close(1, Date.parse('2030-01-01T00:01:00Z'), 0);
    expect(TelemetryWindow.safeParse(m).success).toBe(true);
    expect(m).toMatchObject({ requests: 1, errors: 0, clientErrors: 4 });
    expect(m.latencyMs.hist.counts.reduce((a, b) => a + b, 0)).toBe(1);
  });

  it('keeps percentiles in bounded memory for any traffic', () => {
    const s = new LatencyStats(() => 0.5);
    for (let i = 1; i <= 100; i++) s.add(i);
    expect(s.percentiles()).toEqual({ p50: 50, p95: 95, p99: 99 });
    const big = new LatencyStats();
    for (let i = 0; i < RESERVOIR_SIZE * 10; i++) big.add(i % 100);
    const p = big.percentiles();
    expect(p.p50).toBeGreaterThan(35);
    expect(p.p50).toBeLessThan(65);
    expect(big.counts.reduce((a, b) => a + b, 0)).toBe(RESERVOIR_SIZE * 10);
  });
});

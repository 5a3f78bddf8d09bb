// The server's event-loop delay in /metrics: a stall of the loop shows up as its max.
import { describe, expect, it } from 'vitest';
import { registerProcessMetrics } from './process-metrics.ts';
import { MetricsRegistry } from './registry.ts';

const value = (text: string, series: string) => Number(new RegExp(`^${series.replace(/[{}".]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);

describe('process metrics', () => {
  it('reports a 300 ms stall of the event loop as the max delay, and resident memory', async () => {
    const m = new MetricsRegistry();
    const stop = registerProcessMetrics(m);
    try {
      await new Promise((r) => setTimeout(r, 100));
      const until = performance.now() + 300;
      while (performance.now() < until); // the stall
      await new Promise((r) => setTimeout(r, 100));
      const text = m.render();
      expect(value(text, 'flotilla_event_loop_delay_seconds{quantile="max"}')).toBeGreaterThan(0.25);
      expect(value(text, 'flotilla_event_loop_delay_seconds{quantile="0.5"}')).toBeLessThan(0.25);
      expect(value(text, 'flotilla_process_resident_bytes')).toBeGreaterThan(1e6);
    } finally {
      stop();
    }
  });
});

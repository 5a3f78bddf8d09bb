// The exposition format a Prometheus scraper parses.
import { describe, expect, it } from 'vitest';
import { MetricsRegistry } from './registry.ts';

describe('MetricsRegistry', () => {
  it('renders counters, gauges and histograms in the text format', () => {
    const m = new MetricsRegistry();
    const c = m.counter('x_total', 'things');
    c.inc({ kind: 'a"b' });
    c.inc({ kind: 'a"b' }, 2);
    m.gauge('y', 'now', () => 7);
    m.gauge('z', 'by device', () => [[{ device: 'd1' }, 3]]);
    const h = m.histogram('lat_seconds', 'latency', [0.1, 1]);
    h.observe({ route: '/r' }, 0.05);
    h.observe({ route: '/r' }, 0.5);
    const text = m.render();
    expect(text).toContain('# TYPE x_total counter\nx_total{kind="a\\"b"} 3');
    expect(text).toContain('y 7');
    expect(text).toContain('z{device="d1"} 3');
    expect(text).toContain('lat_seconds_bucket{route="/r",le="0.1"} 1');
    expect(text).toContain('lat_seconds_bucket{route="/r",le="+Inf"} 2');
    expect(text).toContain('lat_seconds_count{route="/r"} 2');
  });
});

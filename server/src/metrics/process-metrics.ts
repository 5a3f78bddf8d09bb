// The server process's own health in /metrics: event-loop delay (how long a ready callback, such as a
// /healthz request, waits for the loop) and resident memory, so a stall shows up without a profiler.
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { MetricsRegistry } from './registry.ts';

/** Resolution of the delay sampler, ms: finer costs CPU for nothing, coarser hides short stalls. */
const RESOLUTION_MS = 20;

/**
 * Registers `flotilla_event_loop_delay_seconds{quantile}` (since start, and `max`) and
 * `flotilla_process_resident_bytes` with `flotilla_process_memory_bytes{kind}`; returns a stop for the sampler (it never keeps the process alive).
 */
export function registerProcessMetrics(m: MetricsRegistry): () => void {
  const h: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  h.enable();
  // The histogram counts the sampler's own interval in every sample: subtract it so an idle loop reads ~0.
  const seconds = (ns: number) => Math.max(0, ns / 1e9 - RESOLUTION_MS / 1000);
  m.gauge('flotilla_event_loop_delay_seconds', 'Event-loop delay since the server started, by quantile (max: the longest stall)', () =>
    h.count === 0
      ? []
      : [
          [{ quantile: '0.5' }, seconds(h.percentile(50))],
          [{ quantile: '0.99' }, seconds(h.percentile(99))],
          [{ quantile: 'max' }, seconds(h.max)],
        ],
  );
  m.gauge('flotilla_process_resident_bytes', 'Resident memory of the server process', () => process.memoryUsage.rss());
  // Where resident memory goes: the JavaScript heap in use, or outside it (buffers, SQLite's and the broker's native memory).
  m.gauge(
    'flotilla_process_memory_bytes',
    'Memory of the server process by kind: heap_used (JavaScript objects), external (buffers)',
    () => {
      const u = process.memoryUsage();
      return [
        [{ kind: 'heap_used' }, u.heapUsed],
        [{ kind: 'external' }, u.external],
      ];
    },
  );
  return () => h.disable();
}

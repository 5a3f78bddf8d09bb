// Latency of one window: a fixed histogram for the server, a bounded reservoir for exact-enough percentiles.

/** Histogram edges in ms: log-spaced from 10 µs to 10 s, the range edge inference lives in. */
export const LATENCY_EDGES_MS: readonly number[] = [
  0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000,
];

/** Values kept for percentiles; beyond this the reservoir samples uniformly (Algorithm R). */
export const RESERVOIR_SIZE = 2048;

/** Latencies of one window in bounded memory. */
export class LatencyStats {
  readonly counts = new Array<number>(LATENCY_EDGES_MS.length - 1).fill(0);
  private readonly reservoir = new Float64Array(RESERVOIR_SIZE);
  private seen = 0;

  constructor(private readonly random: () => number = Math.random) {}

  add(ms: number): void {
    this.counts[binOf(ms)]!++;
    if (this.seen < RESERVOIR_SIZE) this.reservoir[this.seen] = ms;
    else {
      const j = Math.floor(this.random() * (this.seen + 1));
      if (j < RESERVOIR_SIZE) this.reservoir[j] = ms;
    }
    this.seen++;
  }

  /** p50, p95 and p99 in ms (nearest rank on the reservoir); 0 for an empty window. */
  percentiles(): { p50: number; p95: number; p99: number } {
    const n = Math.min(this.seen, RESERVOIR_SIZE);
    if (n === 0) return { p50: 0, p95: 0, p99: 0 };
    const sorted = this.reservoir.slice(0, n).sort();
    const at = (q: number) => sorted[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))]!;
    return { p50: at(0.5), p95: at(0.95), p99: at(0.99) };
  }
}

function binOf(ms: number): number {
  const e = LATENCY_EDGES_MS;
  for (let i = 1; i < e.length - 1; i++) if (ms < e[i]!) return i - 1;
  return e.length - 2;
}

// Median latency of several runnables measured in interleaved rounds, so background load affects all alike.

/** Something to time: one call is one inference. */
export interface LatencyCase {
  name: string;
  run: () => Promise<unknown>;
}

export interface LatencyOptions {
  /** Total measuring time for all cases together; default 1000 ms. */
  budgetMs?: number;
  /** Untimed calls per case first (allocations, thread pool start); default 20. */
  warmup?: number;
  /** Calls per case per round; default 10. */
  perRound?: number;
  /** Minimum timed calls per case, even past the budget; default 20. */
  minSamples?: number;
}

/** Median microseconds per call of each case, by name. */
export async function medianLatencies(cases: LatencyCase[], opts: LatencyOptions = {}): Promise<Record<string, number>> {
  const warmup = opts.warmup ?? 20;
  const perRound = opts.perRound ?? 10;
  const minSamples = opts.minSamples ?? 20;
  for (const c of cases) for (let i = 0; i < warmup; i++) await c.run();
  const samples = cases.map(() => [] as number[]);
  const deadline = performance.now() + (opts.budgetMs ?? 1000);
  while (performance.now() < deadline || samples.some((s) => s.length < minSamples)) {
    for (let k = 0; k < cases.length; k++) {
      for (let i = 0; i < perRound; i++) {
        const t = performance.now();
        await cases[k]!.run();
        samples[k]!.push((performance.now() - t) * 1000);
      }
    }
  }
  const out: Record<string, number> = {};
  cases.forEach((c, k) => {
    const s = samples[k]!.sort((a, b) => a - b);
    out[c.name] = Math.round(s[s.length >> 1]! * 10) / 10;
  });
  return out;
}

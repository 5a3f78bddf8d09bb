// `/healthz` asked every 250 ms for the whole soak, one request at a time: what an operator's probe sees.

export interface HealthSummary {
  samples: number;
  /** Requests that failed or took longer than the 5 s timeout (they count as 5 s in the percentiles). */
  failures: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

const TIMEOUT_MS = 5000;

export class HealthSampler {
  private readonly ms: number[] = [];
  private failures = 0;
  private stopped = false;
  private readonly loop: Promise<void>;

  constructor(
    private readonly server: string,
    private readonly everyMs = 250,
  ) {
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const t0 = performance.now();
      try {
        const res = await fetch(`${this.server}/healthz`, { signal: AbortSignal.timeout(TIMEOUT_MS) });
        await res.arrayBuffer();
        if (!res.ok) this.failures++;
        this.ms.push(performance.now() - t0);
      } catch {
        this.failures++;
        this.ms.push(TIMEOUT_MS);
      }
      await new Promise((r) => setTimeout(r, Math.max(0, this.everyMs - (performance.now() - t0))));
    }
  }

  stop(): Promise<void> {
    this.stopped = true;
    return this.loop;
  }

  summary(): HealthSummary {
    const sorted = [...this.ms].sort((a, b) => a - b);
    const at = (q: number) => (sorted.length ? round(sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!) : 0);
    return { samples: sorted.length, failures: this.failures, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: round(sorted.at(-1) ?? 0) };
  }
}

const round = (ms: number) => Math.round(ms * 10) / 10;

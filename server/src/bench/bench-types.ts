// The shape every benchmark module returns, so `flotilla bench` can print, JSON-ify and record them.

export interface BenchOptions {
  /** Smaller workloads for a quick look (the default run uses the full sizes). */
  quick?: boolean;
  /** Print live progress to stderr (never to stdout, which may carry JSON). */
  log?: (line: string) => void;
}

export interface BenchReport {
  /** Benchmark name as given to `npm run bench -- NAME`. */
  name: string;
  /** Flat figures for `--json`: numbers carry their unit in the key (e.g. `int8Batch1Us`). */
  figures: Record<string, number | string | boolean>;
  /** A Markdown section (table plus a sentence or two) for BENCHMARKS.md. */
  markdown: string;
}

export type BenchModule = { run(opts: BenchOptions): Promise<BenchReport> };

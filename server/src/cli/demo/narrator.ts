// The demo's voice: numbered steps with timings, on stdout (logs and progress bars stay on stderr); with --ci
// on stderr, so that stdout holds only the JSON summary.

/** One finished step: its title, how long it took (ms) and whether it succeeded. */
export interface StepRecord {
  title: string;
  ms: number;
  ok: boolean;
  error?: string;
}

export class Narrator {
  readonly steps: StepRecord[] = [];
  private readonly started = Date.now();

  constructor(private readonly out: NodeJS.WritableStream = process.stdout) {}

  /** Prints a line indented under the current step. */
  say(line: string): void {
    this.out.write(`   ${line}\n`);
  }

  /** Runs one step, timing it; a failure is recorded and rethrown so the demo stops there. */
  async step<T>(title: string, fn: () => Promise<T>): Promise<T> {
    const n = this.steps.length + 1;
    this.out.write(`\n[${n}] ${title} (t+${this.elapsed()})\n`);
    const t0 = Date.now();
    try {
      const v = await fn();
      this.steps.push({ title, ms: Date.now() - t0, ok: true });
      this.say(`done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      return v;
    } catch (e) {
      const error = (e as Error)?.message ?? String(e);
      this.steps.push({ title, ms: Date.now() - t0, ok: false, error });
      this.say(`FAILED after ${((Date.now() - t0) / 1000).toFixed(1)} s: ${error}`);
      throw e;
    }
  }

  elapsed(): string {
    return `${((Date.now() - this.started) / 1000).toFixed(0)} s`;
  }
}

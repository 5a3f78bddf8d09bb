// One way to print results: a single JSON object with --json, readable text otherwise.

export interface OutputOptions {
  json?: boolean;
}

/** Prints `value` as JSON (with --json) or the human rendering. */
export function emit(opts: OutputOptions, value: unknown, human: () => string): void {
  if (opts.json) process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  else process.stdout.write(`${human()}\n`);
}

/** A fixed-width text table. */
export function table(headers: string[], rows: unknown[][]): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === null || c === undefined ? '-' : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (c ?? '').padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

export const pct = (x: unknown): string => (typeof x === 'number' ? `${(x * 100).toFixed(2)}%` : '-');

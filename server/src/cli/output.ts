// One way to print results: a single JSON object with --json, readable text otherwise.

export interface OutputOptions {
  json?: boolean;
}

/** Prints `value` as JSON (with --json) or the human rendering, with control characters made visible. */
export function emit(opts: OutputOptions, value: unknown, human: () => string): void {
  if (opts.json) process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  else process.stdout.write(`${printable(human())}\n`);
}

/**
 * Text safe for a terminal: what devices report (an error, a name) may carry escape sequences that would
 * recolour, retitle or rewrite the operator's screen. C0 controls other than newline and tab, DEL and C1
 * controls are shown as `\xNN` instead.
 */
export function printable(text: string): string {
  return text.replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** A fixed-width text table. */
export function table(headers: string[], rows: unknown[][]): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === null || c === undefined ? '-' : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells
    .map((r) =>
      r
        .map((c, i) => (c ?? '').padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export const pct = (x: unknown): string => (typeof x === 'number' ? `${(x * 100).toFixed(2)}%` : '-');

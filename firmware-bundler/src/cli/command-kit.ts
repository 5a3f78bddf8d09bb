// Shared plumbing of the bundle subcommands: --json output, exit codes, usage errors, option parsers.
import { readFile } from 'node:fs/promises';
import { InvalidArgumentError, type Command } from 'commander';
import { BundleError, type BundleErrorCode } from '../errors.ts';

/** Exit statuses of every subcommand (SPEC §15). */
export const EXIT = Object.freeze({ ok: 0, failed: 1, usage: 2 });

/** What a subcommand's handler returns: the JSON fields (besides `ok`) and the human-readable lines. */
export interface CommandResult {
  readonly data: Record<string, unknown>;
  readonly human: readonly string[];
}

/** Codes that mean the caller asked wrongly rather than that the bundle failed a check. */
const USAGE_CODES: ReadonlySet<BundleErrorCode> = new Set(['BUNDLE_USAGE', 'BUNDLE_INPUT_INVALID']);

/**
 * Adds `--json`, usage-error handling (exit 2, and one JSON error object under `--json`) and an
 * action that runs `handler`, prints its result and sets `process.exitCode` (0 / 1 / 2).
 */
export function defineAction<O extends object>(cmd: Command, handler: (args: string[], opts: O) => Promise<CommandResult>): Command {
  cmd.option('--json', 'print exactly one JSON object on stdout');
  cmd.exitOverride((err) => {
    if (err.exitCode === 0) return; // --help: commander exits 0 itself
    if (cmd.opts().json === true) printJson({ ok: false, error: { code: 'BUNDLE_USAGE', message: err.message.replace(/^error: /, '') } });
    process.exit(EXIT.usage);
  });
  cmd.action(async (...params: unknown[]) => {
    // commander passes the declared arguments, then the options object, then the command.
    const args = params.slice(0, -2) as string[];
    const opts = params[params.length - 2] as O & { json?: boolean };
    try {
      const result = await handler(args, opts);
      if (opts.json) printJson({ ok: true, ...result.data });
      else for (const line of result.human) process.stdout.write(`${line}\n`);
      process.exitCode = EXIT.ok;
    } catch (err) {
      const bundleErr = err instanceof BundleError ? err : undefined;
      const code = bundleErr?.code ?? 'BUNDLE_INTERNAL';
      const message = err instanceof Error ? err.message : String(err);
      if (opts.json) printJson({ ok: false, error: { code, message } });
      else process.stderr.write(`${code}: ${message}\n`);
      process.exitCode = bundleErr && USAGE_CODES.has(bundleErr.code) ? EXIT.usage : EXIT.failed;
    }
  });
  return cmd;
}

function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Reads a file named on the command line; a missing or unreadable file is a usage error. */
export async function readInput(file: string): Promise<Uint8Array> {
  try {
    const buf = await readFile(file);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (err) {
    throw new BundleError('BUNDLE_USAGE', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

/** Runs a loader over a file named on the command line, turning unreadable files into usage errors. */
export async function loadInput<T>(file: string, load: (file: string) => Promise<T>): Promise<T> {
  try {
    return await load(file);
  } catch (err) {
    if (err instanceof BundleError) throw err;
    throw new BundleError('BUNDLE_USAGE', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

/** commander parser for a non-negative safe integer option. */
export function integerOption(value: string): number {
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) throw new InvalidArgumentError('expected a non-negative integer');
  return Number(value);
}

/** commander parser for an ISO 8601 time option; returns milliseconds since the epoch. */
export function timeOption(value: string): number {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new InvalidArgumentError('expected an ISO 8601 time, e.g. 2025-01-31T12:00:00Z');
  return ms;
}

/** commander collector for a repeatable option. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/**
 * Parses a duration: plain seconds (`3600`) or a number with unit s, m, h, d or w (`90d`).
 * Returns seconds.
 */
export function parseDuration(value: string): number {
  const m = /^(\d+)([smhdw]?)$/.exec(value.trim());
  if (!m) throw new InvalidArgumentError('expected a duration such as 3600, 12h or 90d');
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[m[2] as '' | 's' | 'm' | 'h' | 'd' | 'w'];
  return Number(m[1]) * unit;
}

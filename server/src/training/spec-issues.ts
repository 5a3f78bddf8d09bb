// Turns zod issues into one-line messages that name the offending field, e.g. "layers[2].units must be ...".
import { z } from 'zod';

/** `['layers', 2, 'units']` → `layers[2].units`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : out ? `.${String(part)}` : String(part);
  return out;
}

function describe(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys')
    return `has unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
  return issue.message;
}

/** One message per issue, path first; an issue on the root object is reported against `root`. */
export function formatIssues(issues: readonly z.core.$ZodIssue[], root: string): string[] {
  return issues.map((issue) => `${formatPath(issue.path) || root} ${describe(issue)}`);
}

/** Error option for zod checks: "is required" when the value is missing, `text` otherwise. */
export function must(text: string): { error: (issue: { input?: unknown }) => string } {
  return { error: (issue) => (issue.input === undefined ? 'is required' : text) };
}

/** An integer in [min, max], with one message for every way it can be wrong. */
export function intIn(min: number, max: number) {
  const m = must(`must be an integer from ${min} to ${max}`);
  return z.int(m).min(min, m).max(max, m);
}

/** A number in [min, max] (or (min, max] with `openMin`). */
export function numberIn(min: number, max: number, openMin = false) {
  const m = must(`must be a number in ${openMin ? '(' : '['}${min}, ${max}]`);
  const base = z.number(m);
  return (openMin ? base.gt(min, m) : base.min(min, m)).max(max, m);
}

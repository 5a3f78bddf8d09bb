// A long import answered as NDJSON (one JSON object a line): progress as batches commit, then the result or
// the error. Errors before the first batch commits still get their own HTTP status (the stream has not
// started); later ones arrive as an `error` line with the status they would have had (see schemas/fleet.ts).
import type { Context } from 'hono';
import type { AppEnv } from '../app-env.ts';
import { handleError } from '../errors.ts';

type Progress = { done: number; total: number };

/** The media type of the streamed answer. */
export const NDJSON = 'application/x-ndjson';

export async function streamImport<T extends object>(
  c: Context<AppEnv>,
  run: (onProgress: (p: Progress) => void) => Promise<T>,
): Promise<Response> {
  const lines: string[] = [];
  let wake: (() => void) | null = null;
  const poke = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  const next = () => new Promise<void>((r) => (wake = r));
  const state: { outcome: { ok: true; value: T } | { ok: false; error: Error } | null } = { outcome: null };
  void run((p) => {
    lines.push(`${JSON.stringify({ type: 'progress', ...p })}\n`);
    poke();
  })
    .then(
      (value) => (state.outcome = { ok: true, value }),
      (error: Error) => (state.outcome = { ok: false, error }),
    )
    .finally(poke);

  // Until something is committed the answer can still be an ordinary error with its status.
  while (lines.length === 0 && !state.outcome) await next();
  const early = state.outcome;
  if (lines.length === 0 && early && !early.ok) throw early.error;

  const encoder = new TextEncoder();
  let ended = false;
  const body = new ReadableStream<Uint8Array>({
    async pull(ctl) {
      while (lines.length === 0 && !state.outcome) await next();
      if (lines.length) return ctl.enqueue(encoder.encode(lines.splice(0).join('')));
      if (ended) return ctl.close();
      ended = true;
      const o = state.outcome!;
      if (o.ok) return ctl.enqueue(encoder.encode(`${JSON.stringify({ type: 'done', ...o.value })}\n`));
      const answer = handleError(o.error, c);
      ctl.enqueue(encoder.encode(`${JSON.stringify({ type: 'error', status: answer.status, ...((await answer.json()) as object) })}\n`));
    },
  });
  return c.body(body, 200, { 'content-type': NDJSON, 'cache-control': 'no-store' });
}

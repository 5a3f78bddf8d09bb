// A call the soak makes to a server that may be slow or gone: each try has a deadline, a failed try is
// retried after a pause, and the error that is finally thrown carries its cause (fetch hides it in `cause`).

export interface Patience {
  /** Tries in all (default 3). */
  attempts?: number;
  /** Deadline of one try, ms (default 15 s). */
  timeoutMs?: number;
  /** Pause between tries, ms (default 1 s, doubling). */
  pauseMs?: number;
}

/** Runs `fn` with an abort signal per try until it succeeds or `attempts` tries failed; the last error names `what` and every try's cause. */
export async function patiently<T>(what: string, fn: (signal: AbortSignal) => Promise<T>, p: Patience = {}): Promise<T> {
  const attempts = p.attempts ?? 3;
  let pause = p.pauseMs ?? 1000;
  const causes: string[] = [];
  for (let i = 1; ; i++) {
    try {
      return await fn(AbortSignal.timeout(p.timeoutMs ?? 15_000));
    } catch (e) {
      causes.push(describeError(e));
      if (i >= attempts) throw new Error(`${what} failed ${attempts} times: ${causes.join('; ')}`, { cause: e });
      await new Promise((r) => setTimeout(r, pause));
      pause *= 2;
    }
  }
}

/** An error's message with its chain of causes (`fetch failed ← connect ECONNREFUSED 127.0.0.1:4711`). */
export function describeError(e: unknown): string {
  const parts: string[] = [];
  for (let cur: unknown = e, depth = 0; cur !== undefined && cur !== null && depth < 5; depth++) {
    if (cur instanceof Error) {
      const code = (cur as { code?: unknown }).code;
      const text = cur.name === 'TimeoutError' ? `timed out (${cur.message})` : cur.message;
      if (!parts.at(-1)?.includes(text)) parts.push(typeof code === 'string' && !text.includes(code) ? `${text} [${code}]` : text);
      cur = cur.cause;
    } else {
      parts.push(String(cur));
      break;
    }
  }
  return parts.join(' ← ');
}

// Exponential backoff with jitter, so a fleet that lost its broker does not reconnect in lockstep.

/** Options of {@link backoffDelay}. All times in milliseconds. */
export interface BackoffOptions {
  /** First delay. Default 1000. */
  minMs?: number;
  /** Largest delay. Default 60000. */
  maxMs?: number;
  /** Random source in [0, 1). Default Math.random. */
  random?: () => number;
}

/**
 * Delay before retry number `attempt` (0 for the first): the exponential ceiling
 * min(maxMs, minMs·2^attempt), then "equal jitter": half fixed, half random, so retries spread out
 * but never come sooner than half the ceiling.
 */
export function backoffDelay(attempt: number, o: BackoffOptions = {}): number {
  const min = o.minMs ?? 1000;
  const max = o.maxMs ?? 60_000;
  const ceiling = Math.min(max, min * 2 ** Math.min(attempt, 30));
  return ceiling / 2 + (o.random ?? Math.random)() * (ceiling / 2);
}

/** Resolves after `ms`, or rejects with the signal's reason when aborted first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

// Which update failures are worth another try [WIRE-2.4.3]: storage and network ones are transient and
// retried with the same backoff as reconnects (transport/backoff.ts); what the bundle itself got wrong is not.
import { backoffDelay, type BackoffOptions } from '../transport/backoff.ts';

/** Options of {@link failureJudge}. */
export interface RetryOptions extends BackoffOptions {
  /** Transient failures of one bundle in a row before the agent stops trying (until an operator's retry). Default 8. */
  maxAttempts?: number;
}

/** Codes of failures that say nothing about the bundle: a full disk, a lost link, a server hiccup. */
const TRANSIENT_CODES = new Set(['AGENT_STORAGE_FAILED', 'AGENT_DOWNLOAD_FAILED', 'INTERNAL']);

/**
 * Whether a failure reason (`CODE: message`) is transient. A blob larger than its bound is refused for
 * good [WIRE-2.7.1]; a bad signature, a mismatched or incompatible bundle, a failed self-test and the
 * loop guard are permanent.
 */
export function isTransient(reason: string): boolean {
  const code = reason.slice(0, reason.indexOf(':'));
  if (!TRANSIENT_CODES.has(code)) return false;
  return !(code === 'AGENT_DOWNLOAD_FAILED' && /larger than/.test(reason));
}

/**
 * The state machine's failure judge: transient failures get the next try after an exponential backoff
 * with jitter (1 s doubling to 5 min by default), up to `maxAttempts`; then, and for permanent ones, no retry.
 */
export function failureJudge(now: () => number, o: RetryOptions = {}) {
  const backoff = { minMs: o.minMs ?? 1000, maxMs: o.maxMs ?? 300_000, random: o.random };
  return (reason: string, attempts: number): { permanent: boolean; retryAt: number | null } => {
    if (!isTransient(reason)) return { permanent: true, retryAt: null };
    if (attempts + 1 >= (o.maxAttempts ?? 8)) return { permanent: false, retryAt: null };
    return { permanent: false, retryAt: now() + backoffDelay(attempts, backoff) };
  };
}

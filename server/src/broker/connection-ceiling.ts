// How many broker connections this process may hold: never so many that the HTTP API, SQLite and blob files
// run out of file descriptors. 1,100 idle MQTT sockets under `ulimit -n 1024` once made the API unreachable.
import { readFileSync } from 'node:fs';

/** Descriptors always left to the rest of the process (HTTP, databases, blobs, logs). */
export const RESERVED_DESCRIPTORS = 256;

/** The soft `ulimit -n` from /proc/self/limits text, or null when unknown (not Linux) or unlimited. */
export function softOpenFileLimit(limitsText: string | null = readProcLimits()): number | null {
  const m = limitsText?.match(/^Max open files\s+(\S+)/m);
  if (!m || m[1] === 'unlimited') return null;
  const n = Number(m[1]);
  return Number.isFinite(n) && n > 0 ? n : null;
}

/**
 * The connection limit to enforce: the configured one, lowered to what the descriptor limit leaves after
 * {@link RESERVED_DESCRIPTORS} (and at most three quarters of it on small limits), never below 1.
 */
export function connectionCeiling(configured: number, softLimit: number | null = softOpenFileLimit()): number {
  if (softLimit === null) return configured;
  const room = Math.min(softLimit - RESERVED_DESCRIPTORS, Math.floor(softLimit * 0.75));
  return Math.max(1, Math.min(configured, room));
}

function readProcLimits(): string | null {
  try {
    return readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return null;
  }
}

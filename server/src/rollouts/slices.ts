// Port calls for many devices in slices that give the event loop back between them: a 100% stage of
// 1,000 devices is one step of the engine, and done in one go it held /healthz and MQTT for a second.
import { setImmediate as nextMacrotask } from 'node:timers/promises';

/** Devices per port call; small enough that one slice costs milliseconds, large enough to batch the writes. */
export const NOTIFY_SLICE = 100;

/**
 * Calls `fn` on consecutive slices of `items` (at most `size` each), in order, and yields to the event
 * loop (a macrotask, so timers and I/O run) after every slice but the last. Nothing is skipped: a
 * failing slice stops the walk and rejects, as the whole call would have.
 */
export async function inSlices<T>(items: readonly T[], fn: (slice: T[]) => Promise<void>, size = NOTIFY_SLICE): Promise<void> {
  for (let i = 0; i < items.length; i += size) {
    if (i > 0) await nextMacrotask();
    await fn(items.slice(i, i + size));
  }
}

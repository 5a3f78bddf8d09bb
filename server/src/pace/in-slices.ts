// Long walks over many items in slices that give the event loop back between them, so /healthz and MQTT are
// served meanwhile: a rollout stage notifying 1,000 devices, a device import writing 50,000 rows. A leaf
// module any domain may use.
import { setImmediate as nextMacrotask } from 'node:timers/promises';

/**
 * Calls `fn` on consecutive slices of `items` (at most `size` each), in order, and yields to the event
 * loop (a macrotask, so timers and I/O run) after every slice but the last. Nothing is skipped: a
 * failing slice stops the walk and rejects, as the whole call would have.
 */
export async function inSlices<T>(items: readonly T[], size: number, fn: (slice: T[]) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) {
    if (i > 0) await nextMacrotask();
    await fn(items.slice(i, i + size));
  }
}

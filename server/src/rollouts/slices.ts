// A stage's port calls in slices (pace/in-slices.ts): a 100% stage of 1,000 devices is one step of the
// engine, and done in one go it held /healthz and MQTT for a second.
import { inSlices as walk } from '../pace/in-slices.ts';

/** Devices per port call; small enough that one slice costs milliseconds, large enough to batch the writes. */
export const NOTIFY_SLICE = 100;

/** {@link walk} with the stage's slice size unless told otherwise. */
export const inSlices = <T>(items: readonly T[], fn: (slice: T[]) => Promise<void>, size = NOTIFY_SLICE): Promise<void> =>
  walk(items, size, fn);

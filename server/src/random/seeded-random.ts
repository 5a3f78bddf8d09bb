// Seeded randomness for everything that must come out the same on every machine: splits, shuffles,
// sweep draws, layer seeds, simulated telemetry. One generator, the bundle format's mulberry32 (SPEC §5.2),
// so a recorded seed means one stream wherever it is used.
import { mulberry32 } from '@flotilla/firmware-bundler';

/** Uniform floats in [0, 1) with 32 bits of resolution, fully determined by `seed` (any 32-bit integer). */
export function seededRandom(seed: number): () => number {
  const next = mulberry32(seed);
  return () => next() / 4294967296;
}

/** Fisher-Yates shuffle of `items` in place, drawing from `random`. */
export function shuffleInPlace<T extends { length: number; [i: number]: unknown }>(items: T, random: () => number): T {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const tmp = items[i];
    items[i] = items[j];
    items[j] = tmp;
  }
  return items;
}

/** Derives an independent 32-bit seed from a base seed and a label (layer index, epoch, ...). */
export function deriveSeed(base: number, ...parts: number[]): number {
  let h = (base ^ 0x9e3779b9) >>> 0;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x85ebca6b) >>> 0;
    h = (h ^ (h >>> 13)) >>> 0;
  }
  return h;
}

// The FastCDC gear table: 256 pseudo-random 32-bit words from a seeded PRNG, identical on every platform (SPEC §5.2).

/** Seed of the gear table's PRNG: the ASCII bytes "FLOT" read big-endian. */
export const GEAR_SEED = 0x464c4f54;

/**
 * mulberry32, written out so any implementation (C firmware, Python tooling) can regenerate the
 * same stream: returns a function yielding successive unsigned 32-bit integers.
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** The 256-entry gear table: entry i is the (i+1)-th output of `mulberry32(GEAR_SEED)`. */
export const GEAR: Uint32Array = (() => {
  const next = mulberry32(GEAR_SEED);
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) table[i] = next();
  return table;
})();

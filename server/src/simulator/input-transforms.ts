// Per-cohort input transforms for drift demos: each maps one MNIST row (pixels 0..1) to what a cohort's sensor sees.

/** Transforms a row in place-free fashion; `random` is the simulator's seeded source. */
export type InputTransform = (row: Float32Array, random: () => number) => Float32Array;

/**
 * "Snow": structured noise on a 28×28 image: bright speckles on ~8% of pixels plus one or two
 * diagonal streaks, the kind of shift that moves brightness and edge density but keeps the digit.
 */
export const snow: InputTransform = (row, random) => {
  const out = Float32Array.from(row);
  const side = Math.round(Math.sqrt(row.length));
  for (let i = 0; i < out.length; i++) if (random() < 0.08) out[i] = Math.min(1, 0.7 + random() * 0.3);
  const streaks = 1 + Math.floor(random() * 2);
  for (let s = 0; s < streaks; s++) {
    let x = Math.floor(random() * side);
    for (let y = 0; y < side; y++, x = (x + 1) % side) out[y * side + x] = 1;
  }
  return out;
};

/** Transforms known by name (`--transform phone=snow`). */
export const TRANSFORMS: Record<string, InputTransform> = { snow };

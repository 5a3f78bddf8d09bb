// Benjamini-Hochberg: which of many simultaneous tests to call significant at a false discovery rate.

/**
 * Returns, for each p-value, whether BH at rate `q` rejects it. `m` is the family size (default: the
 * number of p-values); a larger `m` stands for tests that were not run this time, counted as p = 1,
 * which keeps the guarantee when only some streams of a fleet are tested in one round.
 */
export function benjaminiHochberg(pValues: readonly number[], q: number, m = pValues.length): boolean[] {
  const family = Math.max(m, pValues.length);
  const order = pValues.map((p, i) => [p, i] as const).sort((a, b) => a[0] - b[0]);
  let cutoff = -1;
  for (let r = 0; r < order.length; r++) if (order[r]![0] <= ((r + 1) * q) / family) cutoff = r;
  const out = new Array<boolean>(pValues.length).fill(false);
  for (let r = 0; r <= cutoff; r++) out[order[r]![1]] = true;
  return out;
}

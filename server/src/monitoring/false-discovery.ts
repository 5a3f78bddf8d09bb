// Benjamini-Hochberg: which of many simultaneous tests to call significant at a false discovery rate.

/**
 * Returns, for each p-value, whether BH at rate `q` rejects it. `m` is the family size (default: the
 * number of p-values); a larger `m` stands for tests that were not run this time, counted as p = 1,
 * which keeps the guarantee when only some streams of a fleet are tested in one round.
 */
export function benjaminiHochberg(pValues: readonly number[], q: number, m = pValues.length): boolean[] {
  const family = Math.max(m, pValues.length);
  const out = new Array<boolean>(pValues.length).fill(false);
  // Only p ≤ q can fall under a line r·q/m (r ≤ m), and they are the smallest, so their ranks among all
  // p-values equal their ranks among themselves: sort just those (usually few of thousands).
  const candidates: number[] = [];
  for (let i = 0; i < pValues.length; i++) if (pValues[i]! <= q) candidates.push(i);
  candidates.sort((a, b) => pValues[a]! - pValues[b]!);
  let cutoff = -1;
  for (let r = 0; r < candidates.length; r++) if (pValues[candidates[r]!]! <= ((r + 1) * q) / family) cutoff = r;
  for (let r = 0; r <= cutoff; r++) out[candidates[r]!] = true;
  return out;
}

// Estimates the top-1 agreement an int8 model will reach on rows it has not seen, from each calibration row's
// decision margin and the candidate's error on that row: a few dozen rows that all agree say little, the margins say
// how close each was to flipping.

/**
 * Expected top-1 agreement on unseen rows like these: one minus the larger of two estimates of the flip rate.
 * - Per row: the chance that the candidate's error flips the float model's top two classes, with the error on their
 *   difference taken as Gaussian with the row's own error spread (rms over classes, × √2 for a difference), i.e.
 *   Φ(−margin / σ), averaged. A row that agreed with a margin of one error spread still counts as a 16% risk.
 * - Pooled: a few dozen rows rarely include one close enough to its decision boundary to flip, although the next
 *   hundred will. Rows flip where the margin is below the error, so the rate is the density of margins near zero times
 *   the error's mean positive part, p(0) · σ/√(2π); p(0) is read from the smallest quarter of the margins (k rows below
 *   the k-th smallest margin) and σ is the rows' pooled spread.
 * Both assume a Gaussian error. Where activation ranges from a few rows clip unseen rows the tail is heavier, and both
 * are optimistic: ResNet-18's first corpus candidate was estimated at 99.8% and flipped 3 of 200 held-out rows (its
 * largest margin error 0.40 against an rms of 0.058). The held-out gate still refuses it; the estimate only picks.
 */
export function expectedAgreement(floatRows: Float32Array, int8Rows: Float32Array, classes: number): number {
  const risk = new FlipRisk();
  risk.add(floatRows, int8Rows, Math.floor(floatRows.length / classes));
  return risk.expectedAgreement();
}

/** {@link expectedAgreement} accumulated batch by batch, as the parity comparison sees the rows (output-agreement.ts). */
export class FlipRisk {
  private risk = 0;
  private pooled = 0;
  private readonly margins: number[] = [];

  /** Adds one batch of `rows` rows of a [rows, classes] output, float and int8. */
  add(floatRows: Float32Array, int8Rows: Float32Array, rows: number): void {
    const classes = rows > 0 ? floatRows.length / rows : 0;
    if (classes < 2) return;
    for (let r = 0; r < rows; r++) {
      const f = floatRows.subarray(r * classes, (r + 1) * classes);
      const q = int8Rows.subarray(r * classes, (r + 1) * classes);
      let top = 0;
      for (let c = 1; c < classes; c++) if (f[c]! > f[top]!) top = c;
      let second = -Infinity;
      let err = 0;
      for (let c = 0; c < classes; c++) {
        if (c !== top && f[c]! > second) second = f[c]!;
        err += (q[c]! - f[c]!) ** 2;
      }
      const sigma = Math.sqrt((2 * err) / classes);
      const margin = f[top]! - second;
      this.margins.push(margin);
      this.pooled += sigma * sigma;
      this.risk += sigma > 0 ? normalCdf(-margin / sigma) : margin > 0 ? 0 : 0.5;
    }
  }

  expectedAgreement(): number {
    const rows = this.margins.length;
    if (rows === 0) return 1;
    const sorted = Float64Array.from(this.margins).sort();
    return 1 - Math.max(this.risk / rows, pooledFlipRate(sorted, Math.sqrt(this.pooled / rows)));
  }
}

/** p(0) · σ/√(2π) from sorted margins: the density near zero from the smallest quarter (at least 2 rows). */
function pooledFlipRate(sortedMargins: Float64Array, sigma: number): number {
  const rows = sortedMargins.length;
  if (rows < 8 || sigma === 0) return 0;
  const k = Math.max(2, Math.ceil(rows / 4));
  const mk = sortedMargins[k - 1]!;
  if (!(mk > 0)) return 1;
  return Math.min(1, (k / (rows * mk)) * (sigma / Math.sqrt(2 * Math.PI)));
}

/** Standard normal CDF (Abramowitz–Stegun 7.1.26 through erf; error below 1.5e-7). */
function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-z * z);
  return x >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

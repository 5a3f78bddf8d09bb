// Per-output agreement between a float model and its int8 version: top-1 for classifier outputs, relative L2 and
// cosine for every output, so a detector's boxes or an embedding are judged as carefully as a class score.
import { FlipRisk } from './expected-agreement.ts';

/** How one output of the int8 model compares with the float model's. */
export interface OutputParity {
  name: string;
  /**
   * `classifier`: a float [N, C] output with C ≥ 2, judged by top-1 agreement. `tensor`: anything else
   * (regression values, feature maps, boxes, embeddings), judged by relative L2 and cosine.
   */
  kind: 'classifier' | 'tensor';
  /** Fraction of samples with the same arg-max (classifier outputs only). */
  top1Agreement?: number;
  /**
   * Top-1 agreement expected on rows not compared, from each row's decision margin against the int8 error on it
   * (expected-agreement.ts; classifier outputs only): what the quantizer's candidate search judges by.
   */
  expectedTop1?: number;
  /** ‖float − int8‖₂ / ‖float‖₂ over all values of the output; 0 when both are all zero. */
  relativeL2: number;
  /** Cosine similarity of the float and int8 values, flattened; 1 when both are all zero. */
  cosine: number;
  maxAbsDiff: number;
  meanAbsDiff: number;
}

/** Accumulates one output's comparison batch by batch. */
export class OutputComparison {
  private ff = 0;
  private qq = 0;
  private fq = 0;
  private dd = 0;
  private maxAbs = 0;
  private sumAbs = 0;
  private values = 0;
  private rows = 0;
  private agree = 0;
  private readonly flipRisk = new FlipRisk();

  constructor(
    readonly name: string,
    readonly kind: OutputParity['kind'],
  ) {}

  /** Adds one batch of `rows` samples (a classifier output's row length is its class count). */
  add(f: Float32Array, q: Float32Array, rows: number): void {
    for (let i = 0; i < f.length; i++) {
      const a = f[i]!;
      const b = q[i]!;
      const d = a - b;
      this.ff += a * a;
      this.qq += b * b;
      this.fq += a * b;
      this.dd += d * d;
      const ad = Math.abs(d);
      if (ad > this.maxAbs || Number.isNaN(ad)) this.maxAbs = Number.isNaN(ad) ? Infinity : ad;
      this.sumAbs += ad;
    }
    this.values += f.length;
    if (this.kind === 'classifier') {
      const cols = f.length / rows;
      for (let r = 0; r < rows; r++) if (argmax(f, r * cols, cols) === argmax(q, r * cols, cols)) this.agree++;
      this.flipRisk.add(f, q, rows);
    }
    this.rows += rows;
  }

  result(): OutputParity {
    const bothZero = this.ff === 0 && this.qq === 0;
    return {
      name: this.name,
      kind: this.kind,
      ...(this.kind === 'classifier'
        ? { top1Agreement: this.rows ? this.agree / this.rows : 0, expectedTop1: this.flipRisk.expectedAgreement() }
        : {}),
      relativeL2: bothZero ? 0 : this.ff === 0 ? Infinity : Math.sqrt(this.dd / this.ff),
      cosine: bothZero ? 1 : this.ff === 0 || this.qq === 0 ? 0 : this.fq / Math.sqrt(this.ff * this.qq),
      maxAbsDiff: this.maxAbs,
      meanAbsDiff: this.values ? this.sumAbs / this.values : 0,
    };
  }
}

/** Index of the largest of `n` values from `start`. */
export function argmax(values: ArrayLike<number>, start: number, n: number): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (values[start + i]! > values[start + best]!) best = i;
  return best;
}

/** Classifier when the output is float [N, C] with C ≥ 2 (a known or dynamic N). */
export function outputKind(dtype: string, shape: (number | null)[]): OutputParity['kind'] {
  return dtype === 'float32' && shape.length === 2 && typeof shape[1] === 'number' && shape[1] >= 2 ? 'classifier' : 'tensor';
}

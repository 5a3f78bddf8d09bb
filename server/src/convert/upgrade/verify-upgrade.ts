// Checks an upgraded/normalised model against its original in onnxruntime: same inputs, outputs within 1e-5
// relative L2, else a refusal naming the ops that were carried over. Rewrites are trusted only after this.
import * as ort from 'onnxruntime-node';
import { ConvertError } from '../convert-error.ts';
import { openSession } from '../ort-runner.ts';

/** Default tolerance: max over outputs and feeds of ‖a − b‖₂ / ‖a‖₂. */
export const UPGRADE_TOLERANCE = 1e-5;

/** The outcome of a passed check. */
export interface UpgradeCheck {
  /** Largest relative L2 difference over all outputs and feeds. */
  maxRelL2: number;
  /** Per output name, the largest relative L2 difference. */
  perOutput: Record<string, number>;
}

/** ‖a − b‖₂ / ‖a‖₂ (absolute when a is all zeros). */
export function relativeL2(a: ArrayLike<number | bigint>, b: ArrayLike<number | bigint>): number {
  if (a.length !== b.length) return Infinity;
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < a.length; i++) {
    const x = Number(a[i]);
    const y = Number(b[i]);
    if (Number.isNaN(x) !== Number.isNaN(y)) return Infinity;
    if (Number.isNaN(x)) continue;
    diff += (x - y) ** 2;
    norm += x * x;
  }
  return Math.sqrt(diff) / (norm > 0 ? Math.sqrt(norm) : 1);
}

/**
 * Runs `original` and `normalised` on each feed (graph optimizations off, so each graph runs as written) and
 * throws `UPGRADE_MISMATCH` when an output differs by more than `tolerance`, naming `carriedOps`.
 */
export async function verifyUpgrade(
  original: Uint8Array,
  normalised: Uint8Array,
  feeds: Record<string, ort.Tensor>[],
  carriedOps: string[],
  tolerance = UPGRADE_TOLERANCE,
): Promise<UpgradeCheck> {
  if (!feeds.length) throw new ConvertError('UPGRADE_MISMATCH', 'no inputs to verify the upgraded model on');
  const a = await openSession(original, { optimization: 'disabled' });
  const b = await openSession(normalised, { optimization: 'disabled' });
  const perOutput: Record<string, number> = {};
  try {
    for (const feed of feeds) {
      const ra = await a.run(feed);
      const rb = await b.run(feed);
      for (const name of a.outputNames) {
        const x = ra[name]!;
        const y = rb[name];
        const sameDims = y && x.dims.length === y.dims.length && x.dims.every((d, i) => d === y.dims[i]);
        const err = sameDims ? relativeL2(x.data as ArrayLike<number>, y.data as ArrayLike<number>) : Infinity;
        perOutput[name] = Math.max(perOutput[name] ?? 0, err);
      }
    }
  } finally {
    await a.release();
    await b.release();
  }
  const maxRelL2 = Math.max(...Object.values(perOutput));
  if (!(maxRelL2 <= tolerance)) {
    const ops = carriedOps.length ? carriedOps.join(', ') : 'none rewritten';
    throw new ConvertError(
      'UPGRADE_MISMATCH',
      `the normalised model differs from the original (relative L2 ${maxRelL2.toExponential(2)} > ${tolerance}); ops carried over: ${ops}`,
      {
        maxRelL2,
        perOutput,
        ops: carriedOps,
      },
    );
  }
  return { maxRelL2, perOutput };
}

// A synthetic float32 "model" (layers of weights with small headers) for delta-update tests and benchmarks.
import { concatBytes, utf8 } from '../bytes.ts';
import { mulberry32 } from '../chunking/gear-table.ts';

/** Default layer sizes in float32 weights: the last holds 60,000 of 340,000 (17.6% of the weight bytes). */
export const SYNTHETIC_LAYERS = [100_000, 100_000, 80_000, 60_000];

/**
 * Serializes layers as `name, length, float32 weights` records, the way ONNX stores initializers
 * one after another. `seeds[i]` fixes layer i's weights (roughly normal, σ ≈ 0.05), so changing one
 * seed is "retraining that layer alone".
 */
export function syntheticModel(seeds: readonly number[], layers: readonly number[] = SYNTHETIC_LAYERS): Uint8Array {
  const parts: Uint8Array[] = [utf8('SYNTHETIC-MODEL-V1\n')];
  layers.forEach((count, i) => {
    const next = mulberry32(seeds[i] ?? i + 1);
    const w = new Float32Array(count);
    for (let k = 0; k < count; k++) w[k] = ((next() + next() + next()) / 2 ** 32 - 1.5) * 0.1;
    const header = new Uint8Array(24);
    header.set(utf8(`layer${i}`.padEnd(16, ' ')));
    new DataView(header.buffer).setUint32(16, count, true);
    parts.push(header, new Uint8Array(w.buffer));
  });
  return concatBytes(parts);
}

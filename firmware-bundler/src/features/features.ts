// The feature contract (shared by the agent and the server's reference profiles): values of the manifest's monitored features for one model input row, to histogram on the reference bins.
import type { FeatureProfile } from '../manifest/types.ts';
import { imageLayout, luminance } from './image-features.ts';

/**
 * Image summary features by the name a reference profile gives them (a feature without `index`).
 * They are computed on the model input row, after preprocessing, like `index` features, and agree
 * with `meanBrightness`, `contrast` and `edgeDensity` of image-features.ts (the server's reference).
 */
export const SUMMARY_FEATURES = ['mean_brightness', 'contrast', 'edge_density'] as const;

/** Computes every monitored feature of one row: `values[i]` for `profile[i]`, NaN where unknown. */
export type FeatureExtractor = (row: Float32Array, offset: number, values: Float64Array) => void;

/**
 * Compiles the extractor for `features` on rows of `dims`. A feature with `index` reads that flat
 * element; one named in {@link SUMMARY_FEATURES} is computed from the image layout of `dims`; any
 * other feature yields NaN (counted in bin 0, so the server still sees the window's sample count).
 * Runs on every prediction, so the summaries share two fused passes over the pixels.
 */
export function compileFeatures(features: readonly FeatureProfile[], dims: readonly number[]): FeatureExtractor {
  const layout = imageLayout(dims);
  const size = dims.reduce((a, b) => a * b, 1);
  const kind = features.map((f) =>
    f.index !== undefined ? 'index' : layout && (SUMMARY_FEATURES as readonly string[]).includes(f.name) ? f.name : 'unknown',
  );
  const wantStats = kind.some((k) => k === 'mean_brightness' || k === 'contrast' || k === 'edge_density');
  const wantEdges = kind.includes('edge_density');
  const lum = layout && layout.channels > 1 && wantStats ? new Float32Array(layout.height * layout.width) : null;
  const width = layout?.width ?? 0;
  const height = layout?.height ?? 0;
  return (row, offset, values) => {
    let mean = 0;
    let std = 0;
    let edges = 0;
    if (wantStats) {
      // One channel: read the row in place; several: average them into `lum` first.
      const px = lum ? luminance(row, offset, layout!, lum) : row;
      const base = lum ? 0 : offset;
      const n = width * height;
      let sum = 0;
      let sq = 0;
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = base, end = base + n; i < end; i++) {
        const v = px[i]!;
        sum += v;
        sq += v * v;
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
      }
      mean = sum / n;
      std = Math.sqrt(Math.max(0, sq / n - mean * mean));
      if (wantEdges && hi > lo)
        edges = countEdges(px, base, width, height, 0.1 * (hi - lo)) / ((width - 1) * height + width * (height - 1));
    }
    for (let i = 0; i < kind.length; i++) {
      const k = kind[i];
      values[i] =
        k === 'index'
          ? features[i]!.index! < size
            ? row[offset + features[i]!.index!]!
            : NaN
          : k === 'mean_brightness'
            ? mean
            : k === 'contrast'
              ? std
              : k === 'edge_density'
                ? edges
                : NaN;
    }
  };
}

function countEdges(px: Float32Array, base: number, width: number, height: number, t: number): number {
  // Separate horizontal and vertical sweeps keep the inner loops branch-free but for the comparison.
  let edges = 0;
  for (let y = 0; y < height; y++) {
    const r = base + y * width;
    for (let x = r, end = r + width - 1; x < end; x++) {
      const d = px[x + 1]! - px[x]!;
      edges += Math.abs(d) > t ? 1 : 0;
    }
  }
  for (let x = base, end = base + (height - 1) * width; x < end; x++) {
    const d = px[x + width]! - px[x]!;
    edges += Math.abs(d) > t ? 1 : 0;
  }
  return edges;
}

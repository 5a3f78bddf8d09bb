// Values of the manifest's monitored features for one model input row, to histogram on the reference bins.
import type { FeatureProfile } from '@flotilla/firmware-bundler';
import { contrast, edgeDensity, imageLayout, luminance, meanBrightness } from './image-features.ts';

/**
 * Image summary features by the name a reference profile gives them (a feature without `index`).
 * They are computed on the model input row, after preprocessing, like `index` features.
 */
export const SUMMARY_FEATURES = ['mean_brightness', 'contrast', 'edge_density'] as const;

/** Computes every monitored feature of one row: `values[i]` for `profile[i]`, NaN where unknown. */
export type FeatureExtractor = (row: Float32Array, offset: number, values: Float64Array) => void;

/**
 * Compiles the extractor for `features` on rows of `dims`. A feature with `index` reads that flat
 * element; one named in {@link SUMMARY_FEATURES} is computed from the image layout of `dims`; any
 * other feature yields NaN (counted in bin 0, so the server still sees the window's sample count).
 */
export function compileFeatures(features: readonly FeatureProfile[], dims: readonly number[]): FeatureExtractor {
  const layout = imageLayout(dims);
  const needsImage = features.some((f) => f.index === undefined && (SUMMARY_FEATURES as readonly string[]).includes(f.name));
  const lum = layout && needsImage ? new Float32Array(layout.height * layout.width) : null;
  const size = dims.reduce((a, b) => a * b, 1);
  return (row, offset, values) => {
    let summarized = false;
    for (let i = 0; i < features.length; i++) {
      const f = features[i]!;
      if (f.index !== undefined) {
        values[i] = f.index < size ? row[offset + f.index]! : NaN;
        continue;
      }
      if (!layout || !lum) {
        values[i] = NaN;
        continue;
      }
      if (!summarized) {
        luminance(row, offset, layout, lum);
        summarized = true;
      }
      values[i] =
        f.name === 'mean_brightness' ? meanBrightness(lum)
        : f.name === 'contrast' ? contrast(lum)
        : f.name === 'edge_density' ? edgeDensity(lum, layout.width, layout.height)
        : NaN;
    }
  };
}

// Monitored features: index features, and image summaries (brightness, contrast, edge density).
import { describe, expect, it } from 'vitest';
import { compileFeatures } from './features.ts';
import { contrast, edgeDensity, imageLayout, meanBrightness } from './image-features.ts';

describe('image summary features', () => {
  it('reads the layout from the row dims', () => {
    expect(imageLayout([28, 28, 1])).toEqual({ height: 28, width: 28, channels: 1, order: 'hwc' });
    expect(imageLayout([3, 8, 8])).toEqual({ height: 8, width: 8, channels: 3, order: 'chw' });
    expect(imageLayout([784])).toEqual({ height: 28, width: 28, channels: 1, order: 'hwc' });
    expect(imageLayout([10])).toBeNull();
  });

  it('measures brightness, contrast and edges the same on any value scale', () => {
    const flat = new Float32Array(16).fill(0.5);
    expect([meanBrightness(flat), contrast(flat), edgeDensity(flat, 4, 4)]).toEqual([0.5, 0, 0]);
    // Left half dark, right half bright: one vertical edge crossing 4 rows → 4 of 24 neighbour pairs.
    const split = Float32Array.from({ length: 16 }, (_, i) => (i % 4 < 2 ? 0 : 1));
    expect(meanBrightness(split)).toBe(0.5);
    expect(contrast(split)).toBe(0.5);
    expect(edgeDensity(split, 4, 4)).toBeCloseTo(4 / 24);
    expect(
      edgeDensity(
        split.map((v) => v * 255),
        4,
        4,
      ),
    ).toBeCloseTo(4 / 24);
  });

  it('extracts index features and summaries per row, NaN for what it does not know', () => {
    const extract = compileFeatures(
      [
        { name: 'px5', index: 5, edges: [0, 1], frequencies: [1] },
        { name: 'mean_brightness', edges: [0, 1], frequencies: [1] },
        { name: 'edge_density', edges: [0, 1], frequencies: [1] },
        { name: 'mystery', edges: [0, 1], frequencies: [1] },
      ],
      [4, 4],
    );
    const values = new Float64Array(4);
    const rows = new Float32Array(32);
    rows.set(
      Float32Array.from({ length: 16 }, (_, i) => (i % 4 < 2 ? 0 : 1)),
      16,
    );
    extract(rows, 16, values);
    expect(values[0]).toBe(0);
    expect(values[1]).toBe(0.5);
    expect(values[2]).toBeCloseTo(4 / 24);
    expect(values[3]).toBeNaN();
  });
});

// Summary features of an image row, so drift on images is measured on a few numbers (SPEC §4.6 names, agent-defined).

/** How a row's values are laid out as an image. */
export interface ImageLayout {
  height: number;
  width: number;
  channels: number;
  /** Channels last (`hwc`) or first (`chw`). */
  order: 'hwc' | 'chw';
}

/**
 * Reads an image layout from row dims (no batch): `[H, W]`, `[H, W, C]` or `[C, H, W]` with C ≤ 4
 * (channels last wins when both fit), or a flat row whose length is a perfect square (one channel).
 * Null when the row is not an image.
 */
export function imageLayout(dims: readonly number[]): ImageLayout | null {
  if (dims.length === 2) return { height: dims[0]!, width: dims[1]!, channels: 1, order: 'hwc' };
  if (dims.length === 3) {
    const [a, b, c] = dims as [number, number, number];
    if (c <= 4) return { height: a, width: b, channels: c, order: 'hwc' };
    if (a <= 4) return { height: b, width: c, channels: a, order: 'chw' };
    return null;
  }
  if (dims.length === 1) {
    const side = Math.round(Math.sqrt(dims[0]!));
    return side > 1 && side * side === dims[0] ? { height: side, width: side, channels: 1, order: 'hwc' } : null;
  }
  return null;
}

/** Luminance of each pixel (the mean over channels) into `out` (length H·W). */
export function luminance(row: ArrayLike<number>, offset: number, l: ImageLayout, out: Float32Array): Float32Array {
  const { height, width, channels, order } = l;
  const plane = height * width;
  if (channels === 1) {
    for (let i = 0; i < plane; i++) out[i] = row[offset + i]!;
    return out;
  }
  for (let p = 0; p < plane; p++) {
    let s = 0;
    for (let c = 0; c < channels; c++) s += row[offset + (order === 'hwc' ? p * channels + c : c * plane + p)]!;
    out[p] = s / channels;
  }
  return out;
}

/** Mean luminance. */
export function meanBrightness(lum: Float32Array): number {
  let s = 0;
  for (let i = 0; i < lum.length; i++) s += lum[i]!;
  return lum.length ? s / lum.length : 0;
}

/** RMS contrast: the standard deviation of luminance. */
export function contrast(lum: Float32Array): number {
  const m = meanBrightness(lum);
  let s = 0;
  for (let i = 0; i < lum.length; i++) s += (lum[i]! - m) ** 2;
  return lum.length ? Math.sqrt(s / lum.length) : 0;
}

/**
 * Share of horizontally or vertically adjacent pixel pairs whose luminance differs by more than
 * 10 % of the image's range (max − min), in [0, 1]; 0 for a flat image. Relative to the range so it
 * reads the same on 0-255 pixels and on normalized ones.
 */
export function edgeDensity(lum: Float32Array, width: number, height: number): number {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < lum.length; i++) {
    const v = lum[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const pairs = (width - 1) * height + width * (height - 1);
  if (!(hi > lo) || pairs <= 0) return 0;
  const t = 0.1 * (hi - lo);
  let edges = 0;
  for (let y = 0; y < height; y++) {
    const r = y * width;
    for (let x = 0; x < width; x++) {
      const v = lum[r + x]!;
      if (x + 1 < width && Math.abs(lum[r + x + 1]! - v) > t) edges++;
      if (y + 1 < height && Math.abs(lum[r + width + x]! - v) > t) edges++;
    }
  }
  return edges / pairs;
}

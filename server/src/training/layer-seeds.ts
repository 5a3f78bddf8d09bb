// Re-seeds dropout layers before each training step, so masks differ per step yet repeat per run.
import type * as tf from '@tensorflow/tfjs';
import { deriveSeed } from '../random/seeded-random.ts';

/** Layer classes whose masks come from `tf.dropout(..., this.seed)` read at call time. */
const SEEDED_AT_CALL = new Set(['Dropout', 'SpatialDropout1D']);

/*
 * tfjs-layers passes a Dropout layer's `seed` to every call, so a fixed seed would draw the same mask
 * on every batch (no regularisation), and no seed draws from Math.random (no reproducibility).
 * Setting a fresh derived seed per step gives both.
 */

/** The dropout layers of `model`, nested models included, in a stable order. */
export function findDropoutLayers(model: tf.LayersModel): { seed?: number }[] {
  const found: { seed?: number }[] = [];
  const visit = (layers: tf.layers.Layer[]) => {
    for (const layer of layers) {
      if (SEEDED_AT_CALL.has(layer.getClassName())) found.push(layer as unknown as { seed?: number });
      const inner = (layer as unknown as { layers?: tf.layers.Layer[] }).layers;
      if (Array.isArray(inner)) visit(inner);
    }
  };
  visit(model.layers);
  return found;
}

/** Gives each dropout layer a seed derived from (run seed, step, layer position). */
export function reseedDropout(layers: { seed?: number }[], runSeed: number, step: number): void {
  for (const [i, layer] of layers.entries()) layer.seed = deriveSeed(runSeed, 0x0d0, step, i);
}

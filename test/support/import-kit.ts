// A store, blobs and a ConversionService per test for the import-with-evidence tests, and the tiny two-class
// model they import.
import { afterEach, beforeEach } from 'vitest';
import { floatTensor, makeNode } from '@flotilla/firmware-bundler/onnx';
import { ConversionService } from '../../server/src/conversion/conversion-service.ts';
import { modelOf } from '../../server/src/convert/testing/onnx-fixtures.ts';
import { openWorld } from './retraining-test-kit.ts';

/** [N, 3] → softmax over 2 classes: class 1 when feature 1 beats feature 0. */
export const TWO_CLASS_MODEL = modelOf(
  13,
  [makeNode('MatMul', ['x', 'W'], ['z']), makeNode('Softmax', ['z'], ['y'], { axis: -1 })],
  [floatTensor('W', [3, 2], Float32Array.from([4, 0, 0, 4, 0, 0]))],
  [3],
  [2],
);

/** Opens a fresh world before each test and closes it after; read the current one through the getters. */
export function useConversionWorld(): { world: () => Awaited<ReturnType<typeof openWorld>>; conversion: () => ConversionService } {
  let world: Awaited<ReturnType<typeof openWorld>>;
  let conversion: ConversionService;
  beforeEach(async () => {
    world = await openWorld();
    conversion = new ConversionService(world.store, world.blobs);
  });
  afterEach(async () => world.close());
  return { world: () => world, conversion: () => conversion };
}

// Bundles of an imported model carry what its evidence holds: labels, the reference profile, and self-tests whose
// expected outputs come from the artifact being bundled; an import without a reference set adds none of them.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { floatTensor, makeNode } from '@flotilla/firmware-bundler/onnx';
import { ConversionService } from '../conversion/conversion-service.ts';
import { encodeNpy } from '../convert/npy-write.ts';
import { modelOf } from '../convert/testing/onnx-fixtures.ts';
import { bundleExtras } from './bundle-extras.ts';
import { openWorld } from '@flotilla/test/support/retraining-test-kit';

let world: Awaited<ReturnType<typeof openWorld>>;
let conversion: ConversionService;
beforeEach(async () => {
  world = await openWorld();
  conversion = new ConversionService(world.store, world.blobs);
});
afterEach(async () => world.close());

const model = modelOf(13, [makeNode('MatMul', ['x', 'W'], ['z']), makeNode('Softmax', ['z'], ['y'], { axis: -1 })], [floatTensor('W', [3, 2], Float32Array.from([4, 0, 0, 4, 0, 0]))], [3], [2]);
const rows = Float32Array.from(Array.from({ length: 64 }, (_, i) => (i % 2 ? [0, 1, i / 64] : [1, 0, i / 64])).flat());

describe('bundle extras of imported models', () => {
  it('carry labels, the reference profile and self-tests computed with the bundled artifact', async () => {
    const v = await conversion.importOnnx(model, 'toy', '', 'op', { reference: encodeNpy(rows, [64, 3]), labels: new TextEncoder().encode('["left","right"]') });
    const extras = await bundleExtras(world.store, world.blobs, v, 'model.onnx');
    expect(extras.labels).toEqual(['left', 'right']);
    expect(extras.referenceProfile!.features).toEqual((await conversion.evidence(v))!.reference.features);
    expect(extras.selfTests).toHaveLength(4);
    expect(extras.selfTests![1]).toMatchObject({ inputs: { x: [0, 1, 1 / 64] } });
    expect(extras.selfTests![1]!.expected.y![1]).toBeCloseTo(0.982, 3);
  });

  it('add nothing for an import without a reference set', async () => {
    const v = await conversion.importOnnx(model, 'bare', '', 'op');
    const extras = await bundleExtras(world.store, world.blobs, v, 'model.onnx');
    expect(extras.labels).toBeUndefined();
    expect(extras.referenceProfile).toBeUndefined();
    expect(extras.selfTests).toBeUndefined();
  });
});

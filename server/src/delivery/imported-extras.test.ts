// Bundles of an imported model carry what its evidence holds: labels, the reference profile, and self-tests whose
// expected outputs come from the artifact being bundled; an import without a reference set adds none of them.
import { describe, expect, it } from 'vitest';
import { encodeNpy } from '../convert/npy-write.ts';
import { bundleExtras } from './bundle-extras.ts';
import { TWO_CLASS_MODEL, useConversionWorld } from '@flotilla/test/support/import-kit';

const kit = useConversionWorld();

const model = TWO_CLASS_MODEL;
const rows = Float32Array.from(Array.from({ length: 64 }, (_, i) => (i % 2 ? [0, 1, i / 64] : [1, 0, i / 64])).flat());

describe('bundle extras of imported models', () => {
  it('carry labels, the reference profile and self-tests computed with the bundled artifact', async () => {
    const v = await kit
      .conversion()
      .importOnnx(model, 'toy', '', 'op', { reference: encodeNpy(rows, [64, 3]), labels: new TextEncoder().encode('["left","right"]') });
    const extras = await bundleExtras(kit.world().store, kit.world().blobs, v, 'model.onnx');
    expect(extras.labels).toEqual(['left', 'right']);
    expect(extras.referenceProfile!.features).toEqual((await kit.conversion().evidence(v))!.reference.features);
    expect(extras.selfTests).toHaveLength(4);
    expect(extras.selfTests![1]).toMatchObject({ inputs: { x: [0, 1, 1 / 64] } });
    expect(extras.selfTests![1]!.expected.y![1]).toBeCloseTo(0.982, 3);
  });

  it('add nothing for an import without a reference set', async () => {
    const v = await kit.conversion().importOnnx(model, 'bare', '', 'op');
    const extras = await bundleExtras(kit.world().store, kit.world().blobs, v, 'model.onnx');
    expect(extras.labels).toBeUndefined();
    expect(extras.referenceProfile).toBeUndefined();
    expect(extras.selfTests).toBeUndefined();
  });
});

// OnnxNodeRuntime on onnxruntime's WebGPU provider, on Mesa lavapipe (Vulkan on the CPU): the same
// numbers as the reference, and the provider list a bundle's policy is checked against.
import { describe, expect, it } from 'vitest';
import { OnnxNodeRuntime } from '@flotilla/edge-agent';
import { lavapipeIcd, lavapipeMissing } from '../support/tools.ts';
import { classifierModel, referenceOutputs, sampleRow } from './harness/test-models.ts';

const missing = lavapipeMissing();
// Read by the Vulkan loader when onnxruntime's Dawn first looks for an adapter.
if (!missing) process.env.VK_DRIVER_FILES = lavapipeIcd();

describe.skipIf(missing)('OnnxNodeRuntime with executionProvider webgpu (lavapipe)', () => {
  it('runs a batch on the WebGPU provider like the reference, and offers webgpu then cpu', async () => {
    const rt = new OnnxNodeRuntime({ executionProvider: 'webgpu' });
    expect(rt.executionProviders).toEqual(['webgpu', 'cpu']);
    const model = classifierModel();
    const s = await rt.load(model);
    const rows = [sampleRow(16, 1), sampleRow(16, 2), sampleRow(16, 3)];
    const out = await s.run({ x: { data: Float32Array.from(rows.flat()), dims: [3, 16] } });
    expect(out.y!.dims).toEqual([3, 3]);
    const want = (await Promise.all(rows.map((r) => referenceOutputs(model, r)))).flat();
    Array.from(out.y!.data).forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 4));
    await s.release();
  });
});

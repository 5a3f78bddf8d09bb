// One InferenceRuntime contract run against the native runtime (CPU, and WebGPU on Mesa lavapipe) and
// the wasm one (STYLE: a suite per seam), plus probing: self-test vectors within tolerance and a time budget.
import { describe, expect, it } from 'vitest';
import { buildManifest, type BundleManifest } from '@flotilla/firmware-bundler';
import { DataType, encodeModel, floatTensor, makeModel, makeNode, makeTensor, makeValueInfo } from '@flotilla/firmware-bundler/onnx';
import { OnnxNodeRuntime, isAgentError, type InferenceRuntime } from '@flotilla/edge-agent';
import { OnnxWebRuntime } from '@flotilla/edge-agent/browser';
import { probeModel } from '@flotilla/edge-agent/testing';
import * as ort from 'onnxruntime-node';
import { classifierModel, referenceOutputs, sampleRow } from './harness/test-models.ts';
import { typedModel } from './harness/typed-models.ts';
import { lavapipeIcd, lavapipeMissing } from '../support/tools.ts';

/** x[N,4] · dequantize(int8 W[4,2]) : what an int8-QDQ bundle looks like, for the wasm fold path. */
function int8Model(): Uint8Array {
  const w = Int8Array.from([10, -20, 30, -40, 50, -60, 70, -80]);
  return encodeModel(
    makeModel({
      name: 'q',
      node: [makeNode('DequantizeLinear', ['Wq', 's', 'z'], ['W']), makeNode('MatMul', ['x', 'W'], ['y'])],
      initializer: [makeTensor('Wq', [4, 2], w), floatTensor('s', [], [0.05]), makeTensor('z', [], Int8Array.from([0]))],
      input: [makeValueInfo('x', DataType.FLOAT, ['N', 4])],
      output: [makeValueInfo('y', DataType.FLOAT, ['N', 2])],
    }),
  );
}

const noLavapipe = lavapipeMissing();
// Read by the Vulkan loader when onnxruntime's Dawn first looks for an adapter.
if (!noLavapipe) process.env.VK_DRIVER_FILES = lavapipeIcd();

const runtimes: [string, () => InferenceRuntime][] = [
  ['OnnxNodeRuntime', () => new OnnxNodeRuntime()],
  ['OnnxWebRuntime (wasm)', () => new OnnxWebRuntime()],
  ...(noLavapipe
    ? []
    : [
        ['OnnxNodeRuntime (webgpu on lavapipe)', () => new OnnxNodeRuntime({ executionProvider: 'webgpu' })] as [
          string,
          () => InferenceRuntime,
        ],
      ]),
];

it('a webgpu OnnxNodeRuntime offers webgpu then cpu, so bundles built for cpu still pass the policy', () => {
  expect(new OnnxNodeRuntime({ executionProvider: 'webgpu' }).executionProviders).toEqual(['webgpu', 'cpu']);
});

describe.each(runtimes)('InferenceRuntime contract: %s', (_name, make) => {
  it('loads a model, reports its inputs and runs a batch like the reference', async () => {
    const rt = make();
    const model = classifierModel();
    const s = await rt.load(model);
    expect(s.inputs).toEqual([{ name: 'x', shape: ['N', 16], type: 'float32' }]);
    expect(s.outputs).toEqual([{ name: 'y', shape: ['N', 3], type: 'float32' }]);
    expect(s.outputNames).toEqual(['y']);
    const rows = [sampleRow(16, 1), sampleRow(16, 2), sampleRow(16, 3)];
    const out = await s.run({ x: { data: Float32Array.from(rows.flat()), dims: [3, 16] } });
    expect(out.y!.dims).toEqual([3, 3]);
    const want = (await Promise.all(rows.map((r) => referenceOutputs(model, r)))).flat();
    Array.from(out.y!.data).forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 5));
    await s.release();
  });

  it('runs typed tensors (int64 ids, a bool mask, float16 state) and gives typed outputs like the reference', async () => {
    const s = await make().load(typedModel());
    expect(s.inputs.map((i) => i.type)).toEqual(['int64', 'bool', 'float16']);
    const feeds = {
      ids: { type: 'int64' as const, dims: [2, 3], data: BigInt64Array.from([1n, 2n, 3n, 9n, 0n, 4n]) },
      mask: { type: 'bool' as const, dims: [2, 3], data: Uint8Array.from([1, 1, 0, 1, 1, 1]) },
      h0: { type: 'float16' as const, dims: [2, 4], data: Uint16Array.from([0x3c00, 0, 0, 0, 0, 0, 0, 0xbc00]) },
    };
    const out = await s.runTensors!(feeds);
    const ref = await ort.InferenceSession.create(typedModel());
    const want = await ref.run(Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, new ort.Tensor(v.type, v.data, v.dims)])));
    expect(out.hn).toEqual({ type: 'float16', dims: [2, 4], data: want.hn!.data });
    expect(out.count).toEqual({ type: 'int64', dims: [2], data: BigInt64Array.from([2n, 3n]) });
    await ref.release();
    await s.release();
  });

  it('runs an int8 (QDQ) model to the same numbers', async () => {
    const s = await make().load(int8Model());
    const out = await s.run({ x: { data: Float32Array.from([1, 2, 3, 4]), dims: [1, 4] } });
    // W = 0.05·[[10,-20],[30,-40],[50,-60],[70,-80]]; x·W = 0.05·[500, -600]. The native runtime may fuse
    // this into an int8 kernel that also quantizes x, hence the tolerance.
    const [a, b] = Array.from(out.y!.data);
    expect(a).toBeCloseTo(25, 1);
    expect(b).toBeCloseTo(-30, 1);
    await s.release();
  });

  it('refuses bytes that are not a model with AGENT_MODEL_LOAD_FAILED', async () => {
    const err = await make()
      .load(new TextEncoder().encode('not onnx at all'))
      .catch((e) => e);
    expect(isAgentError(err, 'AGENT_MODEL_LOAD_FAILED')).toBe(true);
  });
});

describe('probing a candidate model', () => {
  const model = classifierModel();
  const manifestWith = async (selfTests: BundleManifest['selfTests']) =>
    buildManifest({
      name: 'm',
      version: '1.0.0',
      sequence: 1,
      files: [{ path: 'model.onnx', bytes: model }],
      signature: {
        inputs: [{ name: 'x', dtype: 'float32', shape: [null, 16] }],
        outputs: [{ name: 'y', dtype: 'float32', shape: [null, 3] }],
      },
      selfTests,
    }).manifest;

  it('passes within tolerance, fails outside it, and gives up past its time budget', async () => {
    const s = await new OnnxNodeRuntime().load(model);
    const row = sampleRow(16);
    const y = await referenceOutputs(model, row);
    const pass = await probeModel(
      s,
      await manifestWith([{ name: 't', inputs: { x: row }, expected: { y }, tolerance: { abs: 1e-5 } }]),
      10_000,
    );
    expect(pass.vectors).toBe(1);
    const off = y.map((v, i) => (i === 1 ? v + 0.01 : v));
    await expect(
      probeModel(s, await manifestWith([{ name: 't', inputs: { x: row }, expected: { y: off }, tolerance: { abs: 1e-3 } }]), 10_000),
    ).rejects.toMatchObject({ code: 'AGENT_SELF_TEST_FAILED' });
    expect(
      (
        await probeModel(
          s,
          await manifestWith([{ name: 't', inputs: { x: row }, expected: { y: off }, tolerance: { abs: 0, rel: 0.1 } }]),
          10_000,
        )
      ).vectors,
    ).toBe(1);
    const many = Array.from({ length: 200 }, (_, i) => ({ name: `t${i}`, inputs: { x: row }, expected: { y }, tolerance: { abs: 1e-5 } }));
    await expect(probeModel(s, await manifestWith(many), 1)).rejects.toMatchObject({ code: 'AGENT_SELF_TEST_TIMEOUT' });
    // Without vectors: a smoke run on zeros must give finite outputs.
    expect((await probeModel(s, await manifestWith(undefined), 10_000)).vectors).toBe(0);
    await s.release();
  });
});

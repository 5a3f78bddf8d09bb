// Named-tensor predictions on a real agent and onnxruntime: int64 ids, a bool mask and a float16 state in,
// typed outputs back, dynamic batch and sequence at several sizes, state carried across calls, the local
// /v1/predict server's named form, and every refusal (unknown or missing name, type, rank, fixed dim, length).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { packBundle, type PackInput } from '@flotilla/firmware-bundler';
import type { TelemetryWindow } from '@flotilla/firmware-bundler/wire';
import { createAgent, type Agent } from '@flotilla/edge-agent';
import { startPredictServer } from '@flotilla/edge-agent/cli/predict-server';
import { trustedSigner, TRUSTED_HEX } from './harness/test-keys.ts';
import { STATE, TYPED_SIGNATURE, typedModel } from './harness/typed-models.ts';
import { classifierModel, sampleRow } from './harness/test-models.ts';

const model = typedModel();
let reference: ort.InferenceSession;
let agent: Agent;
const dir = mkdtempSync(join(tmpdir(), 'agent-named-'));

async function bundle(sequence: number, extra: Partial<PackInput> = {}, bytes = model): Promise<Uint8Array> {
  const packed = await packBundle(
    {
      name: 'typed',
      version: `${sequence}.0.0`,
      sequence,
      files: [{ path: 'model.onnx', bytes }],
      signature: TYPED_SIGNATURE,
      ...extra,
    },
    trustedSigner,
  );
  return packed.bytes;
}

/** The same inputs through an independent onnxruntime session. */
async function truth(ids: bigint[], mask: number[], h0: Uint16Array, n: number): Promise<{ hn: Uint16Array; count: BigInt64Array }> {
  const s = ids.length / n;
  const out = await reference.run({
    ids: new ort.Tensor('int64', BigInt64Array.from(ids), [n, s]),
    mask: new ort.Tensor('bool', Uint8Array.from(mask), [n, s]),
    h0: new ort.Tensor('float16', h0, [n, STATE]),
  });
  return { hn: out.hn!.data as Uint16Array, count: out.count!.data as BigInt64Array };
}

beforeAll(async () => {
  reference = await ort.InferenceSession.create(model);
  agent = await createAgent({ deviceId: 'named-1', offline: true, dataDir: dir, trustedKeys: [TRUSTED_HEX] });
  // No self-test vectors: the probe runs the model on zeros built from the signature (dynamic dims at 1).
  expect(await agent.install(await bundle(1))).toMatchObject({ ok: true });
});
afterAll(async () => {
  await agent?.close();
  await reference?.release();
  rmSync(dir, { recursive: true, force: true });
});

describe('named tensors', () => {
  it('takes int64, bool and float16 in every accepted form and answers typed outputs equal to onnxruntime', async () => {
    const h0 = Uint16Array.from([0x3c00, 0, 0xbc00, 0x3800]); // 1, 0, -1, 0.5 as half bits
    const want = await truth([1n, 2n, 3n], [1, 1, 0], h0, 1);
    const asArrays = await agent.predict({
      ids: { type: 'int64', dims: [1, 3], data: [1, 2, 3] },
      mask: { type: 'bool', dims: [1, 3], data: [true, true, false] },
      h0: { dims: [1, STATE], data: [1, 0, -1, 0.5] },
    });
    const asTyped = await agent.predict({
      ids: { dims: [1, 3], data: BigInt64Array.from([1n, 2n, 3n]) },
      mask: { dims: [1, 3], data: Uint8Array.from([1, 1, 0]) },
      h0: { type: 'float16', dims: [1, STATE], data: h0 },
    });
    const nested = await agent.predict({ ids: { data: [[1, 2, 3]] }, mask: { data: [[1, 1, 0]] }, h0: { data: [[1, 0, -1, 0.5]] } });
    for (const p of [asArrays, asTyped, nested]) {
      expect(p.outputs.hn).toEqual({ type: 'float16', dims: [1, STATE], data: want.hn });
      expect(p.outputs.count).toEqual({ type: 'int64', dims: [1], data: want.count });
      expect(p.top1).toBeUndefined();
      expect(p.model).toMatchObject({ name: 'typed', sequence: 1 });
    }
    expect(want.count[0]).toBe(2n);
  });

  it('runs the dynamic batch and sequence at any size, and carries state from one call to the next', async () => {
    for (const [n, s] of [
      [1, 2],
      [1, 9],
      [3, 5],
    ] as const) {
      const ids = Array.from({ length: n * s }, (_, i) => BigInt((i * 7) % 10));
      const mask = Array.from({ length: n * s }, (_, i) => (i % 4 === 3 ? 0 : 1));
      const h0 = new Uint16Array(n * STATE);
      const p = await agent.predict({
        ids: { type: 'int64', dims: [n, s], data: ids },
        mask: { type: 'bool', dims: [n, s], data: mask },
        h0: { type: 'float16', dims: [n, STATE], data: h0 },
      });
      const want = await truth(ids, mask, h0, n);
      expect(p.outputs.hn!.dims).toEqual([n, STATE]);
      expect(p.outputs.hn!.data).toEqual(want.hn);
      expect(p.outputs.count!.data).toEqual(want.count);
    }
    // The app owns the state: hn of one call is h0 of the next, exactly as a chained onnxruntime session.
    let state: Uint16Array = new Uint16Array(STATE);
    let refState: Uint16Array = new Uint16Array(STATE);
    for (const step of [[1n, 2n], [3n], [4n, 5n, 6n]]) {
      const mask = step.map(() => 1);
      const p = await agent.predict({
        ids: { dims: [1, step.length], data: step },
        mask: { dims: [1, step.length], data: mask },
        h0: { dims: [1, STATE], data: state },
      });
      state = p.outputs.hn!.data as Uint16Array;
      refState = (await truth(step, mask, refState, 1)).hn;
      expect(state).toEqual(refState);
    }
  });

  it('refuses what does not fit the signature, saying what the model takes', async () => {
    const ok = {
      ids: { type: 'int64' as const, dims: [1, 2], data: [1, 2] },
      mask: { type: 'bool' as const, dims: [1, 2], data: [1, 1] },
      h0: { dims: [1, STATE], data: [0, 0, 0, 0] },
    };
    const refused = async (inputs: Record<string, unknown>, message: RegExp) => {
      const err = await agent.predict(inputs as never).then(
        () => null,
        (e) => e,
      );
      expect(err, JSON.stringify(inputs)).toMatchObject({ code: 'AGENT_INPUT_INVALID' });
      expect(err.message).toMatch(message);
    };
    await refused(
      { ...ok, extra: ok.h0 },
      /no input "extra"; its inputs are ids int64 \[\?, \?\], mask bool \[\?, \?\], h0 float16 \[\?, 4\]/,
    );
    await refused({ ids: ok.ids, h0: ok.h0 }, /input mask \(bool \[\?, \?\]\) is missing/);
    await refused({ ...ok, ids: { ...ok.ids, type: 'int32' } }, /input ids is int64, got type "int32"/);
    await refused({ ...ok, ids: { dims: [2], data: [1, 2] } }, /input ids has rank 2 \[\?, \?\], got dims \[2\]/);
    await refused({ ...ok, h0: { dims: [1, 5], data: [0, 0, 0, 0, 0] } }, /dimension 1 is fixed at 4, got 5/);
    await refused({ ...ok, ids: { dims: [1, 3], data: [1, 2] } }, /dims \[1, 3\] need 3 values, got 2/);
    // ids and mask share the graph's symbol S (and N with h0): the model says they must agree.
    await refused({ ...ok, ids: { dims: [1, 3], data: [1, 2, 3] } }, /dimension S must be the same in every input: ids has 3, mask has 2/);
    await refused(
      { ...ok, h0: { dims: [2, STATE], data: new Array(2 * STATE).fill(0) } },
      /dimension N must be the same in every input: ids has 1, h0 has 2/,
    );
    await refused({ ...ok, ids: { dims: [1, 2], data: [1, 2.5] } }, /ids\[1\] = 2.5: int64 needs integers/);
    await refused({ ...ok, ids: { dims: [1, 2], data: [1, 2 ** 60] } }, /int64 needs integers within ±2\^53/);
    await refused({ ...ok, mask: { dims: [1, 2], data: [1, 2] } }, /mask\[1\] = 2: bool needs/);
    await refused({ ...ok, ids: { dims: [1, -2], data: [] } }, /dims must be an array of non-negative integers/);
    await refused({ ...ok, ids: { data: [[1, 2], [3]] } }, /ragged/);
    await refused({ ...ok, ids: { data: [1, 2] } }, /input ids has dynamic dimensions \[\?, \?\]: give its dims/);
    await refused({ ...ok, ids: [1, 2] }, /input ids must be \{ type, dims, data \}/);
    // The array form names the named form instead of guessing.
    await expect(agent.predict([1, 2, 3])).rejects.toMatchObject({
      code: 'AGENT_INPUT_INVALID',
      message: expect.stringMatching(/takes named tensors.*ids int64/),
    });
    await expect(agent.predictBatch([[1, 2, 3]])).rejects.toMatchObject({ code: 'AGENT_INPUT_INVALID' });
    // Dims that claim more than the caller's element cap are refused before anything is allocated.
    await expect(agent.predictNamed({ ...ok, ids: { dims: [1, 1e9], data: [] } }, { maxElements: 1000 })).rejects.toMatchObject({
      message: expect.stringMatching(/ids: dims \[1, 1000000000\] hold 1000000000 elements, more than the 1000 allowed/),
    });
    // Still serving after all of that.
    expect((await agent.predict(ok)).outputs.count!.data).toEqual(BigInt64Array.from([2n]));
  });

  it('counts named predictions in telemetry without input-feature bins', async () => {
    const windows: TelemetryWindow[] = [];
    const off = agent.on('telemetry', (w) => windows.push(w));
    await agent.flushTelemetry();
    windows.length = 0;
    await agent.predict({
      ids: { dims: [1, 1], data: [3] },
      mask: { dims: [1, 1], data: [1] },
      h0: { dims: [1, STATE], data: [0, 0, 0, 0] },
    });
    await agent
      .predict({ ids: { dims: [1, 1], data: [3] }, mask: { dims: [1, 1], data: [1] }, h0: { dims: [1, 5], data: [0, 0, 0, 0, 0] } })
      .catch(() => undefined);
    await agent.flushTelemetry();
    off();
    expect(windows).toHaveLength(1);
    expect(windows[0]).toMatchObject({ requests: 2, errors: 1, features: {}, predictions: [] });
  });

  it('refuses preprocessing it could not apply (it belongs to the array form) before staging anything', async () => {
    const r = await agent.install(await bundle(9, { preprocessing: { steps: [{ op: 'scale', params: { factor: 2 } }] } }));
    expect(r.ok).toBe(false);
    expect(r.reason).toMatch(/preprocessing needs one float32 input with fixed dimensions past the batch; input ids is int64/);
    expect(agent.model?.sequence).toBe(1);
  });

  it('checks self-test vectors with integer, bool and float16 inputs in their own types', async () => {
    const want = await truth([4n, 5n], [1, 0], Uint16Array.from([0x3c00, 0x3c00, 0x3c00, 0x3c00]), 1);
    const hn = Array.from(want.hn, (h) => new DataView(new Uint16Array([h]).buffer).getUint16(0, true)).map(halfValue);
    const vector = {
      name: 'tokens',
      inputs: { ids: [4, 5], mask: [1, 0], h0: [1, 1, 1, 1] },
      expected: { hn, count: [1] },
      tolerance: { abs: 1e-3 },
    };
    expect(await agent.install(await bundle(2, { selfTests: [vector] }))).toMatchObject({ ok: true, model: { sequence: 2 } });
    const wrong = { ...vector, expected: { hn, count: [2] } };
    const r = await agent.install(await bundle(3, { selfTests: [wrong] }));
    expect(r).toMatchObject({ ok: false, model: { sequence: 2 } });
    expect(r.reason).toMatch(/self-test tokens: count\[0\] = 1, expected 2/);
  });
});

describe('named tensors on a classifier and on the local predict server', () => {
  let classifier: Agent;
  let url: string;
  let stop: () => Promise<void>;
  const cdir = mkdtempSync(join(tmpdir(), 'agent-named-c-'));

  beforeAll(async () => {
    classifier = await createAgent({ deviceId: 'named-2', offline: true, dataDir: cdir, trustedKeys: [TRUSTED_HEX] });
    const packed = await packBundle(
      {
        name: 'classifier',
        version: '1.0.0',
        sequence: 1,
        files: [{ path: 'model.onnx', bytes: classifierModel() }],
        labels: ['cat', 'dog', 'bird'],
        signature: {
          inputs: [{ name: 'x', dtype: 'float32', shape: [null, 16] }],
          outputs: [{ name: 'y', dtype: 'float32', shape: [null, 3] }],
        },
      },
      trustedSigner,
    );
    expect((await classifier.install(packed.bytes)).ok).toBe(true);
    const s = await startPredictServer(classifier, { port: 0, token: 'a'.repeat(64), maxRows: 4, maxBodyBytes: 16 * 1024 });
    url = s.url;
    stop = () => new Promise((r) => s.server.close(() => r()));
  });
  afterAll(async () => {
    await stop?.();
    await classifier?.close();
    rmSync(cdir, { recursive: true, force: true });
  });

  const post = async (body: unknown) => {
    const r = await fetch(`${url}/v1/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: r.status, body: (await r.json()) as any };
  };

  it('keeps the array form and adds the named form with the same top-1, label and confidence', async () => {
    const row = sampleRow(16);
    const a = await classifier.predict(row);
    const n = await classifier.predict({ x: { type: 'float32', dims: [1, 16], data: Float32Array.from(row) } });
    expect(n.outputs.y).toEqual({ type: 'float32', dims: [1, 3], data: a.outputs.y });
    expect({ top1: n.top1, label: n.label, confidence: n.confidence }).toEqual({ top1: a.top1, label: a.label, confidence: a.confidence });
    expect(classifier.feedback(n.predictionId, n.label!)).toBe(true);
    // Two rows in one named call: outputs for both, no single top-1 to claim.
    const two = await classifier.predict({ x: { dims: [2, 16], data: [...row, ...row] } });
    expect(two.outputs.y!.dims).toEqual([2, 3]);
    expect(two.top1).toBeUndefined();
  });

  it('serves named tensors over /v1/predict with types and dims, and refuses with the caps and clear errors', async () => {
    const row = sampleRow(16);
    const a = await classifier.predict(row);
    const r = await post({ inputs: { x: { type: 'float32', dims: [1, 16], data: row } } });
    expect(r.status).toBe(200);
    expect(r.body.outputs.y).toEqual({ type: 'float32', dims: [1, 3], data: Array.from(a.outputs.y!) });
    expect(r.body).toMatchObject({ top1: a.top1, label: a.label, model: { name: 'classifier' } });
    // The old forms still answer.
    expect((await post({ input: row })).body.top1).toBe(a.top1);
    expect((await post({ inputs: [row, row] })).body.predictions).toHaveLength(2);
    expect(await post({ inputs: { x: { type: 'int64', dims: [1, 16], data: row } } })).toMatchObject({
      status: 400,
      body: { error: { code: 'AGENT_INPUT_INVALID', message: expect.stringContaining('x is float32') } },
    });
    expect(await post({ inputs: { x: { dims: [1, 16], data: row.slice(1) } } })).toMatchObject({
      status: 400,
      body: { error: { message: expect.stringContaining('need 16 values, got 15') } },
    });
    // A batch beyond the row cap, and dims that claim far more than the body could carry.
    expect(await post({ inputs: { x: { dims: [5, 16], data: [] } } })).toMatchObject({
      status: 413,
      body: { error: { code: 'TOO_MANY_ROWS' } },
    });
    expect(await post({ inputs: { x: { dims: [1, 1e9], data: [] } } })).toMatchObject({
      status: 400,
      body: { error: { message: expect.stringMatching(/dimension 1 is fixed at 16, got 1000000000/) } },
    });
    expect(await post({ inputs: { x: 'pixels' } })).toMatchObject({ status: 400, body: { error: { code: 'AGENT_INPUT_INVALID' } } });
  });
});

/** The number IEEE 754 half bits stand for (reference decoder for the test's expected values). */
function halfValue(h: number): number {
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  const sign = h & 0x8000 ? -1 : 1;
  return exp === 0 ? sign * mant * 2 ** -24 : sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

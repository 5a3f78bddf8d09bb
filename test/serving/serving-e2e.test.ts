// Imported models served end to end: PyTorch exports (a torchvision vision model, a tiny transformer encoder
// with int64 input_ids and attention_mask, a GRU with its state in and out) go through `flotilla models import`
// → a server-made bundle → a rollout → a real agent, whose `predict` (named tensors, and the array form
// where it applies) and local `/v1/predict` answer what an independent onnxruntime session answers.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { createAgent, type Agent, type Tensor } from '@flotilla/edge-agent';
import { startPredictServer } from '@flotilla/edge-agent/cli/predict-server';
import { runCli, startServerProcess, type ServerHandle } from '../support/server-process.ts';
import { torchMissing } from '../support/tools.ts';
import { waitUntil } from '../agent/harness/wait.ts';
import { serverKey } from '../agent/server-kit.ts';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'export-serving-models.py');
const noTorch = torchMissing();

/** One imported model on its own device: its agent, a reference session on the same ONNX file, its local server. */
interface Served {
  agent: Agent;
  ref: ort.InferenceSession;
  url: string;
  bundleId: string;
  stop: () => Promise<void>;
}

let dir: string;
let srv: ServerHandle;
const served: Record<string, Served> = {};

/** A deterministic pseudo-random sequence in [0, 1). */
function rand(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  return Float32Array.from({ length: n }, () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Agent tensor vs onnxruntime tensor: same type and dims, floats within 1e-5, integers exactly. */
function expectSame(got: Tensor | undefined, want: ort.Tensor, what: string): number {
  expect(got, what).toBeDefined();
  expect({ type: got!.type, dims: [...got!.dims] }, what).toEqual({ type: want.type, dims: [...want.dims] });
  if (want.type !== 'float32') {
    expect(got!.data, what).toEqual(want.data);
    return 0;
  }
  const d = maxAbsDiff(got!.data as Float32Array, want.data as Float32Array);
  expect(d, what).toBeLessThanOrEqual(1e-5);
  return d;
}

/** Imports `file` with the CLI, bundles it on the server, rolls it out to a fresh device and starts that device's agent. */
async function ship(name: string, file: string): Promise<Served> {
  const env = { FLOTILLA_TOKEN: srv.token };
  const imported = await runCli(['models', 'import', join(dir, file), '--name', name, '--server', srv.url, '--json'], env);
  expect(imported.code, imported.stderr + imported.stdout).toBe(0);
  const version = JSON.parse(imported.stdout).version as number;
  const b = await srv.api('POST', '/api/v1/bundles', { model: `${name}@${version}` });
  expect(b.status, JSON.stringify(b.body)).toBe(201);
  const d = await srv.api('POST', '/api/v1/devices', {});
  expect(d.status).toBe(201);
  const r = await srv.api('POST', '/api/v1/rollouts', {
    bundle: b.body.id,
    target: { deviceIds: [d.body.id] },
    stages: [{ percent: 100, bakeSec: 0, gates: { minReporting: 0 } }],
  });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  const agentDir = mkdtempSync(join(tmpdir(), `serving-${name}-`));
  const agent = await createAgent({
    deviceId: d.body.id,
    token: d.body.token,
    server: srv.url,
    dataDir: agentDir,
    trustedKeys: [await serverKey(srv)],
    backoff: { minMs: 200, maxMs: 1000 },
  });
  await waitUntil(() => agent.model?.name === name && agent.state === 'idle', `${name} served by its agent`, 60_000);
  const local = await startPredictServer(agent, { port: 0, token: 'b'.repeat(64) });
  return {
    agent,
    ref: await ort.InferenceSession.create(join(dir, file)),
    url: local.url,
    bundleId: b.body.id,
    stop: async () => {
      await new Promise<void>((res) => local.server.close(() => res()));
      await agent.close();
      rmSync(agentDir, { recursive: true, force: true });
    },
  };
}

/** POST /v1/predict with named inputs (plain arrays), answered as JSON. */
async function postNamed(
  s: Served,
  inputs: Record<string, { type: string; dims: number[]; data: ArrayLike<number | bigint> }>,
): Promise<any> {
  const body = {
    inputs: Object.fromEntries(
      Object.entries(inputs).map(([k, v]) => [k, { ...v, data: Array.from(v.data as ArrayLike<number>, Number) }]),
    ),
  };
  const r = await fetch(`${s.url}/v1/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = await r.json();
  expect(r.status, JSON.stringify(json).slice(0, 400)).toBe(200);
  return json;
}

/** A JSON output of /v1/predict against onnxruntime's tensor. */
function expectSameJson(got: { type: string; dims: number[]; data: number[] }, want: ort.Tensor, what: string): void {
  expect({ type: got.type, dims: got.dims }, what).toEqual({ type: want.type, dims: [...want.dims] });
  expect(maxAbsDiff(got.data, Array.from(want.data as ArrayLike<number | bigint>, Number)), what).toBeLessThanOrEqual(1e-5);
}

describe.skipIf(noTorch)('imported models: import → bundle → rollout → agent → predict, equal to onnxruntime', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'serving-models-'));
    const x = spawnSync('/usr/bin/python3', [SCRIPT, dir], { encoding: 'utf8', timeout: 300_000 });
    if (x.status !== 0) throw new Error(`export-serving-models.py failed (${x.status}): ${x.stderr}`);
    srv = await startServerProcess();
    // One after another: each is an import, a bundle, a rollout and a download on 2 shared cores.
    served.vision = await ship('vision', 'vision.onnx');
    served.encoder = await ship('encoder', 'encoder.onnx');
    served.gru = await ship('gru', 'gru.onnx');
  }, 600_000);
  afterAll(async () => {
    for (const s of Object.values(served)) {
      await s.stop();
      await s.ref.release();
    }
    await srv?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a torchvision vision model: named tensors at two batch sizes and the array form agree with onnxruntime', async () => {
    const s = served.vision!;
    for (const n of [1, 3]) {
      const image = rand(n * 3 * 64 * 64, 100 + n);
      const p = await s.agent.predict({ image: { type: 'float32', dims: [n, 3, 64, 64], data: image } });
      const want = await s.ref.run({ image: new ort.Tensor('float32', image, [n, 3, 64, 64]) });
      const d = expectSame(p.outputs.logits, want.logits!, `vision logits, batch ${n}`);
      console.log(`vision batch ${n}: max |agent − onnxruntime| = ${d}`);
    }
    // One float input with fixed dims past the batch: the array form (a row of pixels) still serves it.
    const image = rand(3 * 64 * 64, 9);
    const row = await s.agent.predict(image);
    const want = await s.ref.run({ image: new ort.Tensor('float32', image, [1, 3, 64, 64]) });
    expect(maxAbsDiff(row.outputs.logits!, want.logits!.data as Float32Array)).toBeLessThanOrEqual(1e-5);
    const named = await s.agent.predict({ image: { dims: [1, 3, 64, 64], data: image } });
    expect(named.top1).toBe(row.top1);
    const local = await postNamed(s, { image: { type: 'float32', dims: [1, 3, 64, 64], data: image } });
    expectSameJson(local.outputs.logits, want.logits!, 'vision over /v1/predict');
    expect(local.top1).toBe(row.top1);
  });

  it('a transformer encoder with int64 input_ids and attention_mask: two sequence lengths, padding, both outputs', async () => {
    const s = served.encoder!;
    for (const [n, t] of [
      [2, 5],
      [1, 11],
    ] as const) {
      const ids = BigInt64Array.from({ length: n * t }, (_, i) => BigInt((i * 37 + t) % 100));
      // The second row of the first call is padded after 3 tokens.
      const mask = BigInt64Array.from({ length: n * t }, (_, i) => (Math.floor(i / t) === 1 && i % t >= 3 ? 0n : 1n));
      const p = await s.agent.predict({
        input_ids: { type: 'int64', dims: [n, t], data: ids },
        attention_mask: { type: 'int64', dims: [n, t], data: Array.from(mask, Number) },
      });
      const want = await s.ref.run({
        input_ids: new ort.Tensor('int64', ids, [n, t]),
        attention_mask: new ort.Tensor('int64', mask, [n, t]),
      });
      const d = Math.max(
        expectSame(p.outputs.logits, want.logits!, `encoder logits [${n}, ${t}]`),
        expectSame(p.outputs.hidden, want.hidden!, `encoder hidden [${n}, ${t}]`),
      );
      console.log(`encoder [${n}, ${t}]: max |agent − onnxruntime| = ${d}`);
      // Two outputs: no single one to call the classification, so no top-1 is claimed.
      expect(p.top1).toBeUndefined();
    }
    const ids = [5, 17, 42, 99, 0, 3, 8];
    const want = await s.ref.run({
      input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, 7]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(7).fill(1n), [1, 7]),
    });
    const local = await postNamed(s, {
      input_ids: { type: 'int64', dims: [1, 7], data: ids },
      attention_mask: { type: 'int64', dims: [1, 7], data: Array(7).fill(1) },
    });
    expectSameJson(local.outputs.logits, want.logits!, 'encoder logits over /v1/predict');
    expectSameJson(local.outputs.hidden, want.hidden!, 'encoder hidden over /v1/predict');
    // The array form cannot say which tensor is which: refused with the named form spelled out.
    await expect(s.agent.predict([1, 2, 3])).rejects.toMatchObject({
      code: 'AGENT_INPUT_INVALID',
      message: expect.stringContaining('input_ids int64 [?, ?], attention_mask int64 [?, ?]'),
    });
    const bad = await fetch(`${s.url}/v1/predict`, {
      method: 'POST',
      body: JSON.stringify({ inputs: { input_ids: { type: 'int64', dims: [1, 2], data: [1, 2] } } }),
    });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.message).toMatch(/input attention_mask \(int64 \[\?, \?\]\) is missing/);
  });

  it('a GRU with its state in and out: the app carries hn into h0 across calls, exactly as chained onnxruntime runs', async () => {
    const s = served.gru!;
    let h: Float32Array = new Float32Array(16);
    let hRef: Float32Array = new Float32Array(16);
    for (const [step, t] of [3, 8, 1].entries()) {
      const x = rand(t * 8, 50 + step);
      const p = await s.agent.predict({ x: { dims: [1, t, 8], data: x }, h0: { dims: [1, 1, 16], data: h } });
      const want = await s.ref.run({ x: new ort.Tensor('float32', x, [1, t, 8]), h0: new ort.Tensor('float32', hRef, [1, 1, 16]) });
      expectSame(p.outputs.y, want.y!, `gru y, step ${step}`);
      expectSame(p.outputs.hn, want.hn!, `gru hn, step ${step}`);
      h = p.outputs.hn!.data as Float32Array;
      hRef = want.hn!.data as Float32Array;
    }
    const x = rand(4 * 8, 77);
    const want = await s.ref.run({ x: new ort.Tensor('float32', x, [1, 4, 8]), h0: new ort.Tensor('float32', h, [1, 1, 16]) });
    const local = await postNamed(s, {
      x: { type: 'float32', dims: [1, 4, 8], data: x },
      h0: { type: 'float32', dims: [1, 1, 16], data: h },
    });
    expectSameJson(local.outputs.y, want.y!, 'gru y over /v1/predict');
    expectSameJson(local.outputs.hn, want.hn!, 'gru hn over /v1/predict');
  });

  it('the bundles carry every input and output with its type and shape, and `bundle inspect` and `models import` print them', async () => {
    const bytes = new Uint8Array(
      await (
        await fetch(`${srv.url}/api/v1/blobs/${served.encoder!.bundleId}`, { headers: { authorization: `Bearer ${srv.token}` } })
      ).arrayBuffer(),
    );
    const file = join(dir, 'encoder.fbundle');
    writeFileSync(file, bytes);
    const json = await runCli(['bundle', 'inspect', file, '--json']);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout).manifest.signature).toEqual({
      inputs: [
        { name: 'input_ids', dtype: 'int64', shape: [null, null] },
        { name: 'attention_mask', dtype: 'int64', shape: [null, null] },
      ],
      outputs: [
        { name: 'logits', dtype: 'float32', shape: [null, 3] },
        { name: 'hidden', dtype: 'float32', shape: [null, null, 32] },
      ],
    });
    const human = await runCli(['bundle', 'inspect', file]);
    expect(human.stdout).toContain('input     input_ids int64 [?, ?]');
    expect(human.stdout).toContain('input     attention_mask int64 [?, ?]');
    expect(human.stdout).toContain('output    hidden float32 [?, ?, 32]');
    expect(readFileSync(file).length).toBe(bytes.length);
    // `models import` prints each input and output the same way.
    const again = await runCli(['models', 'import', join(dir, 'gru.onnx'), '--name', 'gru-again', '--server', srv.url], {
      FLOTILLA_TOKEN: srv.token,
    });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('input   x float32 [?, ?, 8]');
    expect(again.stdout).toContain('input   h0 float32 [1, ?, 16]');
    expect(again.stdout).toContain('output  hn float32 [1, ?, 16]');
  });
});

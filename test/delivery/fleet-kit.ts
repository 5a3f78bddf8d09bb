// Helpers shared by the fleet integration tests: a real ONNX model registered in a running server's
// store, provisioned devices, device-side MQTT clients, and small waiting utilities.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import mqtt, { type MqttClient } from 'mqtt';
import { decodeChunkResponse, type ChunkResponseHeader } from '@flotilla/firmware-bundler/wire';
import { encodeModel, floatTensor, makeModel, makeNode, makeValueInfo, DataType } from '@flotilla/firmware-bundler/onnx';
import { registerOnnxInDataDir } from '../../server/src/bench/register-onnx.ts';
import type { ServerHandle } from '../support/server-process.ts';

export const PREFIX = 'flotilla/v1';
export const topic = (id: string, leaf: string) => `${PREFIX}/devices/${id}/${leaf}`;

/** A valid ONNX model `y = x · W + b` with W of `inputs × outputs` floats (4 bytes each). */
export function linearOnnx(inputs: number, outputs: number, seed = 1): Uint8Array {
  let s = seed;
  const rand = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5;
  const graph = {
    name: 'linear',
    node: [makeNode('MatMul', ['x', 'W'], ['xw']), makeNode('Add', ['xw', 'b'], ['y'])],
    initializer: [
      floatTensor('W', [inputs, outputs], Array.from({ length: inputs * outputs }, rand)),
      floatTensor('b', [outputs], Array.from({ length: outputs }, rand)),
    ],
    input: [makeValueInfo('x', DataType.FLOAT, ['N', inputs])],
    output: [makeValueInfo('y', DataType.FLOAT, ['N', outputs])],
  };
  return encodeModel(makeModel(graph as never));
}

/** Registers a model version with an ONNX artifact straight in the server's SQLite file and blob folder. */
export const registerOnnxModel = (srv: ServerHandle, name: string, onnx: Uint8Array): Promise<{ version: number; digest: string }> =>
  registerOnnxInDataDir(srv.dataDir, name, onnx, 'test model');

/** Provisions a device over the API; returns its id and token. */
export async function provision(srv: ServerHandle, body: Record<string, unknown> = {}): Promise<{ id: string; token: string }> {
  const r = await srv.api('POST', '/api/v1/devices', body);
  if (r.status !== 201) throw new Error(`provisioning failed: ${r.status} ${JSON.stringify(r.body)}`);
  return { id: r.body.id, token: r.body.token };
}

/** An mqtt.js device client (MQTT 3.1.1) that does not reconnect unless asked to. */
export function deviceClient(url: string, d: { id: string; token: string }, opts: mqtt.IClientOptions = {}): Promise<MqttClient> {
  return mqtt.connectAsync(url, {
    clientId: d.id,
    username: d.id,
    password: d.token,
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
    ...opts,
  });
}

/** Resolves with the first message on `t` that satisfies `pred`. */
export function nextMessage(c: MqttClient, t: string, pred: (payload: Buffer) => boolean = () => true, ms = 10_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      c.off('message', on);
      reject(new Error(`no message on ${t} within ${ms} ms`));
    }, ms);
    const on = (got: string, payload: Buffer) => {
      if (got !== t || !pred(payload)) return;
      clearTimeout(timer);
      c.off('message', on);
      resolve(payload);
    };
    c.on('message', on);
  });
}

export async function until<T>(fn: () => Promise<T> | T, ok: (v: T) => boolean, ms = 10_000, what = 'condition'): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() - t0 > ms) throw new Error(`${what} not met within ${ms} ms; last value: ${JSON.stringify(v)?.slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Resident memory of a process in MiB, from /proc. */
export function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** A reported state [WIRE-2.3] for a device running `model@version`. */
export const reportedState = (model: { name: string; version: string; sequence: number } | null, state = 'idle') => ({
  v: 1,
  agentVersion: '0.1.0',
  runtime: 'onnxruntime-node',
  state,
  model,
  bundleId: null,
  freeStorageBytes: 1_000_000,
  lastError: null,
  at: new Date().toISOString(),
});

export const mqttPort = (srv: ServerHandle) => Number(new URL(srv.info.mqttUrl).port);

/** Sends chunk requests and collects their responses by correlation id. */
export function chunkFetcher(client: MqttClient, id: string) {
  const waiting = new Map<string, (r: { header: ChunkResponseHeader; bytes: Uint8Array }) => void>();
  client.on('message', (t, payload) => {
    if (t !== topic(id, 'chunks/res')) return;
    const r = decodeChunkResponse(payload);
    if (r) waiting.get(r.header.cid)?.(r);
  });
  return (digest: string, extra: { offset?: number; length?: number } = {}) =>
    new Promise<{ header: ChunkResponseHeader; bytes: Uint8Array }>((resolve, reject) => {
      const cid = randomUUID().slice(0, 12);
      const timer = setTimeout(() => reject(new Error(`no response for ${digest}`)), 10_000);
      waiting.set(cid, (r) => {
        clearTimeout(timer);
        waiting.delete(cid);
        resolve(r);
      });
      void client.publishAsync(topic(id, 'chunks/req'), JSON.stringify({ v: 1, cid, digest, ...extra }), { qos: 1 });
    });
}

// A tiny model's int8 file is larger than its float one (quantize/dequantize nodes and scales outweigh the
// weights saved): bundles ship the float model unless the int8 one is asked for by name. Real server, real quantizer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServerProcess, type ServerHandle } from '../support/server-process.ts';
import { linearOnnx, registerOnnxModel } from './fleet-kit.ts';

let srv: ServerHandle;
beforeAll(async () => {
  srv = await startServerProcess();
}, 60_000);
afterAll(async () => srv?.dispose());

describe('the default bundle artifact', () => {
  it('is the float model when int8 is larger, and int8 only when asked for', async () => {
    await registerOnnxModel(srv, 'tiny', linearOnnx(4, 3));
    const rows = Float32Array.from({ length: 64 * 4 }, (_, i) => Math.sin(i));
    const q = await srv.api('POST', '/api/v1/models/tiny/versions/1/quantize', {
      calibration: { data: Buffer.from(rows.buffer).toString('base64'), shape: [64, 4] },
      calibrationSamples: 64,
      overrideReason: 'test: parity is not the point here',
    });
    expect(q.status, JSON.stringify(q.body)).toBe(200);
    expect(q.body.int8.bytes).toBeGreaterThan(q.body.float.bytes);
    const byDefault = await srv.api('POST', '/api/v1/bundles', { model: 'tiny@1' });
    expect(byDefault.status, JSON.stringify(byDefault.body)).toBe(201);
    expect(byDefault.body.artifact).toBe('model.onnx');
    const asked = await srv.api('POST', '/api/v1/bundles', { model: 'tiny@1', artifact: 'model.int8.onnx' });
    expect(asked.status, JSON.stringify(asked.body)).toBe(201);
    expect(asked.body.artifact).toBe('model.int8.onnx');
  }, 120_000);
});

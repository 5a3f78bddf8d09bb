// A training run on the webgpu backend through the API, in the server's worker thread, on Mesa
// lavapipe (the software adapter, allowed here explicitly): it trains, and lineage names the adapter.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServerProcess, type ServerHandle } from '../support/server-process.ts';
import { lavapipeIcd, lavapipeMissing } from '../support/tools.ts';

const missing = lavapipeMissing();

describe.skipIf(missing)('training on webgpu (lavapipe)', () => {
  let srv: ServerHandle;
  beforeAll(async () => {
    srv = await startServerProcess({ env: { VK_DRIVER_FILES: lavapipeIcd(), FLOTILLA_WEBGPU_ALLOW_SOFTWARE: '1' } });
  });
  afterAll(async () => srv?.dispose());

  it('trains in the worker thread and records the adapter and package versions in lineage', async () => {
    // A small dense model: lavapipe is slow, and the point is the path, not the model.
    const spec = { layers: [{ type: 'dense', units: 32, activation: 'relu' }] };
    const start = await srv.api('POST', '/api/v1/runs', {
      dataset: 'mnist',
      spec,
      hyper: { epochs: 1, batchSize: 256, seed: 3 },
      backend: 'webgpu',
    });
    expect(start.status).toBe(202);
    let run: any;
    for (const t0 = Date.now(); Date.now() - t0 < 240_000; await new Promise((r) => setTimeout(r, 500))) {
      run = (await srv.api('GET', `/api/v1/runs/${start.body.id}`)).body;
      if (['succeeded', 'failed', 'cancelled'].includes(run.status)) break;
    }
    expect(run.status, JSON.stringify(run.error)).toBe('succeeded');
    expect(run.environment.backend).toMatchObject({
      name: 'webgpu',
      adapter: {
        vendor: 'mesa',
        architecture: 'software',
        software: true,
        device: expect.stringMatching(/llvmpipe/),
        driver: expect.stringMatching(/Mesa 25\./),
      },
    });
    expect(run.environment.packages).toMatchObject({
      '@tensorflow/tfjs-backend-webgpu': '4.22.0',
      webgpu: expect.stringMatching(/^0\.\d+\.\d+$/),
    });
    // One epoch of a 32-unit dense layer on 8,000 digits: well above chance on the test split.
    expect(run.metrics.accuracy).toBeGreaterThan(0.7);
  }, 300_000);
});

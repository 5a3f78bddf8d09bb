// The browser build (vite, onnxruntime-web wasm, MQTT over WebSocket, IndexedDB) in headless Chromium against
// the real server: the page (on an origin of its own) asks the server for its broker, installs a bundle the
// server signed, predicts, the server stores its telemetry, and after a reload it serves from IndexedDB.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';
import { chromiumMissing } from '../support/tools.ts';
import { startServerProcess, type ServerHandle } from '../support/server-process.ts';
import { REPO } from './harness/agent-process.ts';
import { classifierModel, referenceOutputs, sampleRow } from './harness/test-models.ts';
import { waitUntil } from './harness/wait.ts';
import { deviceEvents, deviceFor, deviceRequests, serverBundle, serverKey, type ServerBundle } from './server-kit.ts';
import { serveStatic, type StaticSite } from './static-site.ts';

/** Bytes the server has sent as chunks (MQTT and HTTP), from its /metrics. */
async function bytesServed(srv: ServerHandle): Promise<number> {
  const text = await (await fetch(`${srv.url}/metrics`, { headers: { authorization: `Bearer ${srv.token}` } })).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('flotilla_chunk_bytes_served_total'))
    .reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);
}

describe.skipIf(chromiumMissing())('browser agent in headless Chromium, against the real server', () => {
  let srv: ServerHandle;
  let site: StaticSite;
  let browser: Browser;
  let page: Page;
  let v1: ServerBundle;
  let device: { id: string; token: string };
  let key: string;
  const errors: string[] = [];

  beforeAll(async () => {
    await build({ configFile: join(REPO, 'edge-agent/src/web/vite.config.ts'), logLevel: 'warn' });
    site = await serveStatic(join(REPO, 'edge-agent/dist/browser'));
    srv = await startServerProcess();
    v1 = await serverBundle(srv, 'browser-classifier', { seed: 3, headSeed: 4 });
    device = await deviceFor(srv, v1.id, 'browser-1');
    key = await serverKey(srv);
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    page = await browser.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await site?.close();
    await srv?.dispose();
  });

  const config = () => ({ deviceId: device.id, token: device.token, server: srv.url, trustedKey: key, windowSec: 60 });

  it('learns the WebSocket broker from the server, installs the signed bundle, predicts, and the server stores the telemetry', async () => {
    await page.goto(`${site.url}/index.html`);
    const started = await page.evaluate((c) => window.flotillaDemo.start(c), config());
    expect(started).toEqual({ modelAtStart: null, model: v1.version });
    const row = sampleRow(16, 5);
    const p = await page.evaluate((r) => window.flotillaDemo.predict(r), row);
    const expected = await referenceOutputs(v1.onnx, row);
    expect(p.model).toEqual({ name: 'browser-classifier', version: v1.version, sequence: 1 });
    expect(p.outputs.y!.map((v) => Number(v.toFixed(4)))).toEqual(expected.map((v) => Number(v.toFixed(4))));
    await waitUntil(() => page.evaluate(() => window.flotillaDemo.backlog()).then((n) => n === 0), 'backlog acknowledged');
    // Acknowledged means stored: the monitoring API counts the prediction.
    expect(await deviceRequests(srv, device.id)).toBe(1);
    const events = (await deviceEvents(srv, device.id)).reverse();
    expect(events.filter((e) => e.kind === 'status').map((e) => e.detail.to)).toEqual([
      'downloading',
      'verifying',
      'staging',
      'activating',
      'probing',
      'committing',
      'idle',
    ]);
    const shown = (await srv.api('GET', `/api/v1/devices/${device.id}`)).body;
    expect(shown).toMatchObject({
      online: true,
      reported: { runtime: expect.stringMatching(/^onnxruntime-web/), state: 'idle', model: { version: v1.version }, bundleId: v1.id },
    });
    expect(errors).toEqual([]);
  }, 120_000);

  it('serves the installed model from IndexedDB after a reload, without downloading it again', async () => {
    await page.evaluate(() => window.flotillaDemo.stop());
    const served = await bytesServed(srv);
    expect(served).toBeGreaterThan(0);
    await page.reload();
    const started = await page.evaluate((c) => window.flotillaDemo.start(c), config());
    expect(started).toEqual({ modelAtStart: v1.version, model: v1.version });
    const p = await page.evaluate((r) => window.flotillaDemo.predict(r), sampleRow(16, 6));
    expect(p.model.version).toBe(v1.version);
    await waitUntil(() => page.evaluate(() => window.flotillaDemo.backlog()).then((n) => n === 0), 'backlog acknowledged');
    expect(await deviceRequests(srv, device.id)).toBe(2);
    expect(await bytesServed(srv)).toBe(served);
    expect(errors).toEqual([]);
  }, 120_000);

  it('offered the GPU (WebGPU on SwiftShader), probes a bundle that allows webgpu on it: both providers measured, the serving one reported to the server, outputs equal the reference', async () => {
    const gpuBrowser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-background-networking',
        '--enable-unsafe-webgpu',
        '--enable-features=Vulkan',
        '--use-vulkan=swiftshader',
        '--use-webgpu-adapter=swiftshader',
      ],
    });
    try {
      const row = sampleRow(16, 8);
      const spec = { seed: 5, headSeed: 6 };
      const onnx = classifierModel(spec);
      const selfTests = [
        { name: 'row-8', inputs: { x: row }, expected: { y: await referenceOutputs(onnx, row) }, tolerance: { abs: 1e-4 } },
      ];
      const gpuBundle = await serverBundle(srv, 'browser-gpu', spec, { selfTests, executionProviders: ['cpu', 'webgpu'] });
      const gpuDevice = await deviceFor(srv, gpuBundle.id, 'browser-gpu-1');
      const gpuPage = await gpuBrowser.newPage();
      const pageErrors: string[] = [];
      gpuPage.on('pageerror', (e) => pageErrors.push(e.message));
      await gpuPage.goto(`${site.url}/index.html`);
      expect(await gpuPage.evaluate(() => Boolean((navigator as { gpu?: unknown }).gpu))).toBe(true);
      const started = await gpuPage.evaluate((c) => window.flotillaDemo.start(c), {
        ...config(),
        deviceId: gpuDevice.id,
        token: gpuDevice.token,
        gpu: 'webgpu' as const,
      });
      expect(started.model).toBe(gpuBundle.version);
      const choice = (await gpuPage.evaluate(() => window.flotillaDemo.provider()))!;
      // Both sides were measured; whichever won, the reason names the comparison, not a load failure or a mismatch.
      expect(choice.cpuMs).toBeGreaterThan(0);
      expect(choice.acceleratedMs).toBeGreaterThan(0);
      expect(choice.reason).toMatch(choice.provider === 'webgpu' ? /^webgpu matches wasm and is faster/ : /^webgpu is not faster/);
      const p = await gpuPage.evaluate((r) => window.flotillaDemo.predict(r), row);
      expect(p.outputs.y!.map((v) => Number(v.toFixed(4)))).toEqual(selfTests[0]!.expected.y.map((v) => Number(v.toFixed(4))));
      await waitUntil(
        async () => (await srv.api('GET', `/api/v1/devices/${gpuDevice.id}`)).body.reported?.executionProvider === choice.provider,
        'serving provider reported',
      );
      await gpuPage.evaluate(() => window.flotillaDemo.stop());
      expect(pageErrors).toEqual([]);
    } finally {
      await gpuBrowser.close();
    }
  }, 180_000);
});

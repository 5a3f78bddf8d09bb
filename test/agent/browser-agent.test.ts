// The browser build (vite, onnxruntime-web wasm, MQTT over WebSocket, IndexedDB) in headless Chromium:
// installs the desired model, predicts, reports telemetry, and after a reload serves from IndexedDB.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';
import { chromiumMissing } from '../support/tools.ts';
import { REPO } from './harness/agent-process.ts';
import { HarnessServer } from './harness/harness-server.ts';
import { makeBundle, type TestBundle } from './harness/test-bundles.ts';
import { TRUSTED_HEX } from './harness/test-keys.ts';
import { referenceOutputs, sampleRow } from './harness/test-models.ts';
import { waitUntil } from './harness/wait.ts';

describe.skipIf(chromiumMissing())('browser agent in headless Chromium', () => {
  let h: HarnessServer;
  let browser: Browser;
  let page: Page;
  let v1: TestBundle;
  const errors: string[] = [];

  beforeAll(async () => {
    await build({ configFile: join(REPO, 'edge-agent/src/web/vite.config.ts'), logLevel: 'warn' });
    h = await HarnessServer.start({ static: { '/app/': join(REPO, 'edge-agent/dist/browser') } });
    v1 = await makeBundle({ version: '1.0.0', sequence: 1, model: { seed: 3, headSeed: 4 } });
    h.addBlobs(v1.blobs);
    h.addDevice('browser-1');
    await h.setDesired('browser-1', v1.ref, { windowSec: 60 });
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    page = await browser.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  const config = () => ({ deviceId: 'browser-1', token: h.device('browser-1').token, server: h.httpUrl, trustedKey: TRUSTED_HEX, windowSec: 60 });

  it('learns the WebSocket broker from the server, installs the model, predicts and reports telemetry', async () => {
    await page.goto(`${h.httpUrl}/app/index.html`);
    const started = await page.evaluate((c) => window.flotillaDemo.start(c), config());
    expect(started).toEqual({ modelAtStart: null, model: '1.0.0' });
    const row = sampleRow(16, 5);
    const p = await page.evaluate((r) => window.flotillaDemo.predict(r), row);
    const expected = await referenceOutputs(v1.model, row);
    expect(p.model).toEqual({ name: 'classifier', version: '1.0.0', sequence: 1 });
    expect(p.outputs.y!.map((v) => Number(v.toFixed(4)))).toEqual(expected.map((v) => Number(v.toFixed(4))));
    const d = h.device('browser-1');
    await waitUntil(() => [...d.windows.values()].some((w) => w.requests === 1 && w.model?.version === '1.0.0'), 'the prediction in a telemetry window');
    expect(d.statuses.map((s) => s.to)).toEqual(['downloading', 'verifying', 'staging', 'activating', 'probing', 'committing', 'idle']);
    expect(d.reported).toMatchObject({ runtime: expect.stringMatching(/^onnxruntime-web/), state: 'idle', model: { version: '1.0.0' } });
    await waitUntil(() => page.evaluate(() => window.flotillaDemo.backlog()).then((n) => n === 0), 'backlog acknowledged');
    expect(errors).toEqual([]);
  }, 120_000);

  it('serves the installed model from IndexedDB after a reload, without downloading it again', async () => {
    await page.evaluate(() => window.flotillaDemo.stop());
    const served = new Map(h.device('browser-1').served);
    await page.reload();
    const started = await page.evaluate((c) => window.flotillaDemo.start(c), config());
    expect(started).toEqual({ modelAtStart: '1.0.0', model: '1.0.0' });
    expect(h.device('browser-1').served).toEqual(served);
    const p = await page.evaluate((r) => window.flotillaDemo.predict(r), sampleRow(16, 6));
    expect(p.model.version).toBe('1.0.0');
    expect(errors).toEqual([]);
  }, 120_000);
});

// The fleet side of the console in headless Chromium against a real server with simulated devices
// (real MQTT clients): find a device by tag and open its page; create a staged rollout through the
// wizard, watch it advance and pause it; see a drift alert appear live.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { chromiumMissing } from '../support/tools.ts';
import { go, launchBrowser, openConsole, screenshot } from './support/browser.ts';
import { importToyDataset, startConsoleServer, trainToy, type ConsoleServer } from './support/console-harness.ts';
import { SimDevice } from './support/sim-devices.ts';

const skip = chromiumMissing();
const RUNS = { name: 'toy-classifier', version: '1.0.0', sequence: 1 };

describe.skipIf(skip)('web console and the fleet (Chromium, real server, simulated devices)', () => {
  let s: ConsoleServer;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  const sims: SimDevice[] = [];

  beforeAll(async () => {
    [s, browser] = await Promise.all([startConsoleServer(), launchBrowser()]);
    // 24 cars in two regions and 6 trucks; 14 of the cars are online and run v1.0.0.
    const specs = [
      ...Array.from({ length: 24 }, (_, i) => ({
        id: `car-${String(i).padStart(3, '0')}`,
        tags: ['car', i % 2 ? 'north' : 'south'],
        attributes: { hw: i % 3 ? 'rev2' : 'rev1' },
      })),
      ...Array.from({ length: 6 }, (_, i) => ({ id: `truck-${i}`, tags: ['truck', 'north'], groups: ['canary'] })),
    ];
    const made = [];
    for (const d of specs) made.push((await s.srv.api('POST', '/api/v1/devices', d)).body as { id: string; token: string });
    for (const d of made.filter((x) => x.id.startsWith('car-')).slice(0, 14))
      sims.push(await SimDevice.connect(s.wsUrl, d.id, d.token, { model: RUNS }));
    ({ page, errors } = await openConsole(browser, s.url, s.tokens.operator));
  }, 180_000);

  afterAll(async () => {
    await Promise.all(sims.map((d) => d.close()));
    await browser?.close();
    await s?.srv.dispose();
  });

  it('finds devices by tag, pages through them on the server, and opens one', async () => {
    await go(page, '#/devices', 'Devices');
    await page.getByRole('row', { name: /car-000/ }).waitFor();
    // The key new agents are told to trust, as the server computes it.
    const { keys } = (await s.srv.api('GET', '/api/v1/keys')).body;
    await expect.poll(() => page.getByTestId('key-fingerprint').textContent()).toBe(keys[0].fingerprint);
    await page.getByRole('searchbox', { name: 'Tag' }).fill('truck');
    await expect.poll(() => page.locator('.page-header .sub').textContent()).toBe('6 match the filters');
    const rows = page.locator('table tbody tr');
    expect(await rows.count()).toBe(6);
    expect(await rows.allTextContents()).toEqual(expect.arrayContaining([expect.stringMatching(/^truck-\d.*truck/)]));
    // The filter is in the URL: a filtered view is a link.
    expect(page.url()).toMatch(/#\/devices\?tag=truck$/);
    await page.getByRole('searchbox', { name: 'Tag' }).fill('car');
    await page.getByLabel('Presence').selectOption('true');
    await expect.poll(() => page.locator('.page-header .sub').textContent()).toBe('14 match the filters');
    await screenshot(page, 'devices');
    await page.getByRole('link', { name: 'car-003', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'car-003' }).waitFor();
    await page.getByText('toy-classifier@1.0.0', { exact: true }).first().waitFor();
    await page.getByRole('img', { name: /Timeline of car-003: idle; online now/ }).waitFor();
    await screenshot(page, 'device');
  });

  it('stays fast with 10,000 more devices: the server pages and counts, the browser holds one page', async () => {
    let csv = 'id,tags\n';
    for (let i = 0; i < 10_000; i++) csv += `fleet-${String(i).padStart(5, '0')},sensor${i % 10 ? '' : ';hot'}\n`;
    const imported = await fetch(`${s.url}/api/v1/devices/import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.tokens.admin}`, 'content-type': 'text/csv' },
      body: csv,
    });
    expect(imported.status).toBe(201);
    const timed = async (what: string, step: () => Promise<unknown>) => {
      const t0 = performance.now();
      await step();
      const ms = performance.now() - t0;
      console.log(`[10k devices] ${what}: ${ms.toFixed(0)} ms`);
      expect(ms, what).toBeLessThan(3000);
    };
    await timed('first page with the total', async () => {
      await go(page, '#/devices', 'Devices');
      await expect.poll(() => page.locator('.page-header .sub').textContent()).toBe('10,030 in the fleet');
    });
    expect(await page.locator('table tbody tr').count()).toBe(50);
    await timed('next page', async () => {
      await page.getByRole('button', { name: 'Next page' }).click();
      await page.getByText('51–100 of 10,030').waitFor();
    });
    await timed('filter by tag', async () => {
      await page.getByRole('searchbox', { name: 'Tag' }).fill('hot');
      await expect.poll(() => page.locator('.page-header .sub').textContent()).toBe('1,000 match the filters');
    });
    // Back to the first page with the filter: 50 rows in the DOM, whatever the fleet size.
    expect(await page.locator('table tbody tr').count()).toBe(50);
    expect(await page.getByText('1–50 of 1,000').count()).toBe(1);
  });

  it('creates a staged rollout through the wizard, watches it advance, and pauses it', async () => {
    await importToyDataset(s.srv);
    await trainToy(s.srv);
    const exported = await s.srv.api('POST', '/api/v1/models/toy-classifier/versions/1/export', { quantize: 'int8' });
    expect(exported.status, JSON.stringify(exported.body)).toBe(200);
    const bundle = await s.srv.api('POST', '/api/v1/bundles', { model: 'toy-classifier@1', version: '1.1.0' });
    expect(bundle.status, JSON.stringify(bundle.body)).toBe(201);

    await go(page, '#/rollouts/new', 'New rollout');
    const wiz = page.locator('form.wizard');
    await wiz.getByRole('radio', { name: /toy-classifier@1\.1\.0/ }).check();
    await wiz.getByRole('button', { name: /Next: Target/ }).click();
    await wiz.getByLabel(/Tags/).fill('car');
    // The live count: every car, 14 of them online.
    await page.locator('[data-live-count="24"]').waitFor();
    expect(await page.locator('.live-count').textContent()).toMatch(/24 devices match tag=car.*14 online now/);
    await screenshot(page, 'rollout-wizard');
    await wiz.getByRole('button', { name: /Next: Stages/ }).click();
    await wiz.getByRole('button', { name: 'Canary 10% → 50% → 100%' }).click();
    // Short bakes for the first two stages, a long one for the last: it advances twice, then waits.
    const bakes = ['0.05', '0.05', '30'];
    for (const [i, bake] of bakes.entries()) {
      const st = wiz.locator(`[data-stage="${i}"]`);
      await st.getByLabel('Bake (minutes)').fill(bake);
      await st.locator('summary').click();
      // Simulated devices send no telemetry: judge install success only.
      await st.getByLabel('Min. reporting (%)').fill('0');
      for (const g of ['Max. inference errors (%)', 'Max. confidence drop (%)', 'Max. input drift (PSI)']) await st.getByLabel(g).fill('');
    }
    await wiz.getByRole('button', { name: /Next: Review/ }).click();
    await wiz.getByLabel(/Reason/).fill('canary of 1.1.0');
    await wiz.getByRole('button', { name: 'Create and start rollout' }).click();
    await page.getByRole('heading', { level: 1, name: /toy-classifier@1\.1\.0/ }).waitFor();
    // Watch it advance: stage 1 and 2 pass (devices update over MQTT), stage 3 starts baking.
    await page.locator('[data-stage="0"][data-stage-state="passed"]').waitFor({ timeout: 60_000 });
    await page.locator('[data-stage="2"][data-stage-state="active"]').waitFor({ timeout: 60_000 });
    await expect.poll(() => page.locator('.state-legend').first().textContent(), { timeout: 30_000 }).toMatch(/updated \d+/);
    await screenshot(page, 'rollout');
    await page.getByRole('button', { name: 'Pause' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Reason').fill('checking latency before the rest');
    await dialog.getByRole('button', { name: 'Pause' }).click();
    await page.locator('h1 .badge', { hasText: 'paused' }).waitFor();
    await page.getByRole('button', { name: 'Resume' }).waitFor();
    const id = page.url().split('/').pop()!;
    const status = await s.srv.api('GET', `/api/v1/rollouts/${id}`);
    expect(status.body).toMatchObject({ state: 'paused', current: 2 });
    const events = await s.srv.api('GET', `/api/v1/rollouts/${id}/events`);
    expect(events.body.events.at(-1)).toMatchObject({ kind: 'pause', reason: 'checking latency before the rest' });
    await go(page, '#/rollouts', 'Rollouts');
    await page.getByRole('link', { name: id }).waitFor();
    await screenshot(page, 'rollouts');
  }, 240_000);

  it('shows a drift alert as it appears, without a reload', async () => {
    await go(page, '#/monitoring', 'Monitoring');
    await page.locator('#alerts .badge', { hasText: 'live' }).waitFor();
    await page.evaluate(() => ((window as any).__noReload = true));
    // Predictions from a model with no reference: the first windows teach the baseline, then the mix shifts.
    const t0 = Date.now() - 40 * 60_000;
    const win = (k: number, shifted: boolean) => ({
      start: new Date(t0 + k * 60_000).toISOString(),
      end: new Date(t0 + (k + 1) * 60_000).toISOString(),
      requests: 300,
      predictions: shifted ? [280, 10, 10] : [100, 100, 100],
      confidence: { edges: [0, 0.5, 0.8, 0.9, 1], counts: shifted ? [200, 80, 20, 0] : [0, 30, 120, 150] },
    });
    for (let k = 0; k < 20; k++) for (const d of sims.slice(0, 4)) await d.telemetry(win(k, k >= 10));
    // Each device carries two tags (car and a region), so the shift shows in each of its cohorts.
    const row = page.locator('#alerts tbody tr', { hasText: RUNS.name }).first();
    await row.waitFor({ timeout: 45_000 });
    expect(await row.textContent()).toMatch(/critical|warning/);
    expect(await page.evaluate(() => (window as any).__noReload)).toBe(true);
    await screenshot(page, 'monitoring');
    expect(errors).toEqual([]);
  });
});

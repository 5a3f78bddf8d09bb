// The console end to end in headless Chromium against a real server process: sign-in, the overview,
// the model registry (versions, aliases, moving one with confirmation), training with live progress
// over SSE and promotion, two runs compared, a viewer who is offered nothing and refused when forcing,
// and the layout on a narrow screen. Screenshots of each page go to test-output/screenshots/ (`npm run docs:screenshots` refreshes docs/).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { chromiumMissing } from '../support/tools.ts';
import { go, launchBrowser, openConsole, screenshot, signIn } from './support/browser.ts';
import { importToyDataset, startConsoleServer, trainToy, type ConsoleServer } from './support/console-harness.ts';

const skip = chromiumMissing();

describe.skipIf(skip)('web console (Chromium, real server)', () => {
  let s: ConsoleServer;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  let runs: { a: string; b: string };

  beforeAll(async () => {
    [s, browser] = await Promise.all([startConsoleServer(), launchBrowser()]);
    await importToyDataset(s.srv);
    const a = await trainToy(s.srv, { epochs: 3, learningRate: 0.001 });
    // v2 is trained to a usable model (about 63% after 4 epochs): an undertrained classifier sits on near-ties that
    // any int8 rounding flips, and one flip in the 30 test rows fails the 99% agreement gate this test exports through.
    const b = await trainToy(s.srv, { epochs: 25, learningRate: 0.01 });
    runs = { a: a.id, b: b.id };
    await s.srv.api('PUT', '/api/v1/models/toy-classifier/aliases/champion', { version: 1, reason: 'first usable version' });
    for (let i = 0; i < 6; i++) await s.srv.api('POST', '/api/v1/devices', { id: `cam-${i}`, tags: ['camera', i % 2 ? 'eu' : 'us'] });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await s?.srv.dispose();
  });

  it('refuses a bad token with a clear message, then signs the operator in', async () => {
    ({ page, errors } = await openConsole(browser, s.url));
    await expect(page.getByRole('heading', { name: 'Sign in to the console' }).isVisible()).resolves.toBe(true);
    await page.getByLabel('Token').fill('flt_not-a-real-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/refused this token: it is unknown or revoked/);
    await screenshot(page, 'sign-in');
    await signIn(page, s.tokens.operator);
    expect(await page.locator('.whoami').textContent()).toMatch(/olivia \(operator\).*operator/);
    // The token stays in this tab only.
    expect(await page.evaluate(() => sessionStorage.getItem('flotilla.token'))).toBe(s.tokens.operator);
  });

  it('shows the fleet numbers on the overview', async () => {
    await go(page, '#/overview', 'Overview');
    const stat = (label: string) => page.locator(`[data-stat="${label}"] .stat-value`);
    await expect.poll(() => stat('Fleet size').textContent()).toBe('6');
    expect(await stat('Online now').textContent()).toBe('0');
    // Rollouts and alerts are numbers where the server has them, "n/a" where it does not (yet).
    expect(await stat('Active rollouts').textContent()).toMatch(/^(\d+|n\/a)$/);
    expect(await stat('Open alerts').textContent()).toMatch(/^(\d+|n\/a)$/);
    await page.getByRole('img', { name: /Devices by reported model version: none 6/ }).waitFor();
    await screenshot(page, 'overview');
  });

  it('lists the trained model with its versions and aliases', async () => {
    await go(page, '#/models', 'Models');
    const row = page.getByRole('row', { name: /toy-classifier/ });
    await row.waitFor();
    expect(await row.textContent()).toMatch(/champion → v1/);
    await screenshot(page, 'models');
    await row.getByRole('link', { name: 'toy-classifier' }).click();
    await page.getByRole('heading', { level: 1, name: 'toy-classifier' }).waitFor();
    await page.getByRole('link', { name: 'v2', exact: true }).waitFor();
    await page.getByRole('link', { name: 'v1', exact: true }).waitFor();
    expect(await page.locator('[data-alias="champion"]').textContent()).toMatch(/champion→ v1/);
    // Lineage: dataset → run → model → (not yet) quantized, drawn as a graph.
    await page.getByRole('img', { name: /Lineage of toy-classifier v2: Dataset toy; then Training run run_/ }).waitFor();
  });

  it('moves an alias from the UI after confirming with a reason', async () => {
    await page.getByRole('button', { name: 'Move alias champion' }).click();
    const dialog = page.getByRole('dialog', { name: 'Move alias “champion”' });
    await dialog.waitFor();
    await dialog.getByLabel('Version').selectOption('2');
    // No reason, no move: the dialog says why.
    await dialog.getByRole('button', { name: 'Move alias' }).click();
    expect(await dialog.getByRole('alert').textContent()).toMatch(/Say why/);
    await dialog.getByLabel('Reason').fill('v2 is better on the test split');
    await screenshot(page, 'model-alias-dialog');
    await dialog.getByRole('button', { name: 'Move alias' }).click();
    await dialog.waitFor({ state: 'detached' });
    await expect.poll(() => page.locator('[data-alias="champion"]').textContent()).toMatch(/champion→ v2/);
    const model = await s.srv.api('GET', '/api/v1/models/toy-classifier');
    expect(model.body.versions.find((v: any) => v.version === 2).aliases).toContain('champion');
    expect(model.body.aliasHistory.at(-1)).toMatchObject({
      alias: 'champion',
      fromVersion: 1,
      toVersion: 2,
      reason: 'v2 is better on the test split',
    });
    await page.getByRole('heading', { name: 'Alias history' }).waitFor();
  });

  it('exports a version to int8, shows the quantization report, and bundles it into the lineage', async () => {
    await page.getByRole('button', { name: 'Export to ONNX + int8' }).click();
    const dialog = page.getByRole('dialog', { name: 'Export v2 to ONNX and int8?' });
    await dialog.getByRole('button', { name: 'Export' }).click();
    await dialog.waitFor({ state: 'detached', timeout: 60_000 });
    const report = page.locator('#quantization');
    await report.getByText(/parity gate passed/).waitFor();
    expect(await report.textContent()).toMatch(/Top-1 agreement.*of \d+ samples/);
    await page.getByRole('button', { name: 'Make bundle' }).click();
    await page.getByRole('img', { name: /Quantized \(int8\) int8; then Bundle toy-classifier@2\.0\.0/ }).waitFor();
    await page.locator('#lineage').scrollIntoViewIfNeeded();
    await screenshot(page, 'model');
  });

  it('starts a run from the training page and shows its progress live over SSE, then promotes it', async () => {
    const sse: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/events?token=')) sse.push(r.url());
    });
    await go(page, '#/training', 'Training');
    await page.evaluate(() => ((window as any).__noReload = true));
    const form = page.getByRole('form', { name: 'Start a training run' });
    await form.getByLabel('Dataset').selectOption('toy');
    await form.getByLabel('Model name').fill('toy-live');
    await form.getByLabel('Architecture').selectOption('tiny');
    await form.getByLabel('Epochs').fill('12');
    await form.getByLabel('Batch size').fill('8');
    await form.getByRole('button', { name: 'Start training' }).click();
    const progress = page.locator('[data-run-progress]');
    await progress.waitFor();
    // Watch the epoch counter move while the page stays the same page (no reload, no polling of the run).
    const seen = new Set<string>();
    const t0 = Date.now();
    while (Date.now() - t0 < 90_000) {
      seen.add((await progress.getAttribute('data-run-progress')) ?? '');
      if (await page.locator('#run-live .badge', { hasText: 'succeeded' }).count()) break;
      await page.waitForTimeout(40);
    }
    seen.add((await progress.getAttribute('data-run-progress')) ?? '');
    expect([...seen]).toContain('12/12');
    expect([...seen].filter((v) => /^([1-9]|1[01])\/12$/.test(v)).length).toBeGreaterThan(0);
    expect(await page.evaluate(() => (window as any).__noReload)).toBe(true);
    expect(sse.length).toBeGreaterThan(0);
    await page.locator('#run-live .result').waitFor();
    await screenshot(page, 'training');
    await page.getByRole('button', { name: 'Promote v1 to champion' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Reason').fill('first live-trained version');
    await dialog.getByRole('button', { name: 'Promote' }).click();
    await dialog.waitFor({ state: 'detached' });
    await expect.poll(async () => (await s.srv.api('GET', '/api/v1/models/toy-live')).body.versions[0].aliases).toContain('champion');
  });

  it('compares two runs side by side, differences marked', async () => {
    await go(page, '#/training', 'Training');
    await page.getByRole('checkbox', { name: `Pick run ${runs.a} to compare` }).check();
    await page.getByRole('checkbox', { name: `Pick run ${runs.b} to compare` }).check();
    await page.getByRole('link', { name: 'Compare the two' }).click();
    await page.getByRole('heading', { level: 1, name: 'Compare runs' }).waitFor();
    const row = page.getByRole('row', { name: /hyper\.epochs/ });
    await row.waitFor();
    expect(await row.getAttribute('class')).toBe('differs');
    expect(await row.textContent()).toMatch(/325/);
    expect(await page.getByRole('row', { name: /splitSeed/ }).getAttribute('class')).toBeNull();
    await page.getByRole('img', { name: /Validation accuracy by epoch/ }).waitFor();
    await screenshot(page, 'runs-compare');
    await page.getByRole('checkbox', { name: 'only differences' }).check();
    expect(await page.getByRole('row', { name: /splitSeed/ }).count()).toBe(0);
  });

  it('offers a viewer no action, and the server refuses a forced request with 403', async () => {
    const viewer = await openConsole(browser, s.url, s.tokens.viewer);
    const v = viewer.page;
    expect(await v.locator('.whoami').textContent()).toMatch(/viewer/);
    await go(v, '#/models/toy-classifier', 'toy-classifier');
    await v.locator('[data-alias="champion"]').waitFor();
    expect(await v.getByRole('button', { name: /Move alias|Add alias|Export|Make bundle/ }).count()).toBe(0);
    await go(v, `#/training?run=${runs.b}`, 'Training');
    await v.locator('#run-live .result').waitFor();
    expect(await v.getByRole('button', { name: /Promote|Cancel run|Start training/ }).count()).toBe(0);
    expect(await v.getByText('starting one needs an operator token').count()).toBe(1);
    await go(v, '#/rollouts', 'Rollouts');
    expect(await v.getByRole('link', { name: 'New rollout' }).count()).toBe(0);
    await screenshot(v, 'viewer');
    // Forcing it from the page with the viewer's own token: the server says no.
    const forced = await v.evaluate(async () => {
      const headers = { authorization: `Bearer ${sessionStorage.getItem('flotilla.token')}`, 'content-type': 'application/json' };
      const alias = await fetch('/api/v1/models/toy-classifier/aliases/champion', {
        method: 'PUT',
        headers,
        body: JSON.stringify({ version: 1, reason: 'forced' }),
      });
      const run = await fetch('/api/v1/runs', { method: 'POST', headers, body: JSON.stringify({ dataset: 'toy' }) });
      return { alias: alias.status, run: run.status, body: await alias.json() };
    });
    expect(forced).toMatchObject({ alias: 403, run: 403, body: { error: { code: 'FORBIDDEN' } } });
    expect((await s.srv.api('GET', '/api/v1/models/toy-classifier')).body.versions.find((x: any) => x.version === 2).aliases).toContain(
      'champion',
    );
    expect(viewer.errors).toEqual([]);
    await v.context().close();
  });

  it('works on a narrow screen: no sideways scrolling, every control named', async () => {
    const narrow = await openConsole(browser, s.url, s.tokens.operator, { width: 390, height: 844 });
    const p = narrow.page;
    for (const hash of ['#/overview', '#/devices', '#/models/toy-classifier', '#/training']) {
      await go(p, hash);
      await p.waitForTimeout(400);
      const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, `${hash} scrolls sideways`).toBeLessThanOrEqual(0);
      // Every button, link, input and select has a name a screen reader can announce.
      const unnamed = await p.evaluate(() =>
        [...document.querySelectorAll('button, a[href], input, select, textarea')]
          .filter((el) => {
            const e = el as HTMLElement;
            if (e.getAttribute('aria-label') || e.getAttribute('aria-labelledby') || e.title) return false;
            if ((e as HTMLInputElement).labels?.length) return false;
            return !(e.textContent ?? '').trim() && !e.querySelector('img[alt]:not([alt=""])');
          })
          .map((e) => e.outerHTML.slice(0, 80)),
      );
      expect(unnamed, `${hash} has unnamed controls`).toEqual([]);
    }
    await go(p, '#/overview', 'Overview');
    await screenshot(p, 'overview-narrow');
    await p.context().close();
    expect(errors).toEqual([]);
  });
});

// The console's Webhooks page in headless Chromium against a real server: an admin sees each hook's last
// deliveries and a failing hook disabled with the reason, and enables it again; a viewer sees no hooks.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { chromiumMissing } from '../support/tools.ts';
import { startServerProcess, type ServerHandle } from '../support/server-process.ts';
import { linearOnnx, registerOnnxModel, until } from '../delivery/fleet-kit.ts';
import { go, launchBrowser, openConsole } from './support/browser.ts';
import { ensureConsoleBuilt } from './support/build-console.ts';

describe.skipIf(chromiumMissing())('web console: webhooks (Chromium, real server)', () => {
  let srv: ServerHandle;
  let browser: Browser;
  let receiver: Server;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    ensureConsoleBuilt();
    [srv, browser] = await Promise.all([
      startServerProcess({
        env: { FLOTILLA_WEBHOOK_BACKOFF_MS: '20', FLOTILLA_WEBHOOK_BACKOFF_MAX_MS: '50', FLOTILLA_WEBHOOK_MAX_FAILURES: '2' },
      }),
      launchBrowser(),
    ]);
    receiver = createServer((req, res) => req.resume().on('end', () => res.writeHead(req.url === '/ok' ? 200 : 500).end()));
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    const port = (receiver.address() as AddressInfo).port;
    for (const [name, path] of [
      ['good', 'ok'],
      ['bad', 'broken'],
    ] as const) {
      const r = await srv.api('POST', '/api/v1/webhooks', {
        url: `http://127.0.0.1:${port}/${path}`,
        events: ['model.*'],
        description: name,
      });
      ids[name] = r.body.id;
    }
    await registerOnnxModel(srv, 'lin', linearOnnx(2, 2));
    await srv.api('PUT', '/api/v1/models/lin/aliases/champion', { version: 1, reason: 'console test' });
    await until(
      () => srv.api('GET', `/api/v1/webhooks/${ids.bad}`),
      (x) => x.body.enabled === false,
      15_000,
      'bad hook disabled',
    );
    await until(
      () => srv.api('GET', `/api/v1/webhooks/${ids.good}`),
      (x) => x.body.cursor === 1,
      15_000,
      'good hook delivered',
    );
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await srv?.dispose();
    receiver?.closeAllConnections();
    await new Promise((r) => receiver?.close(r));
  });

  it('shows deliveries and why a hook was disabled, and enables it again', async () => {
    const { page, errors } = await openConsole(browser, srv.url, srv.token);
    await go(page, '#/webhooks', 'Webhooks');
    const good = page.getByRole('row', { name: new RegExp(ids.good!) });
    const bad = page.getByRole('row', { name: new RegExp(ids.bad!) });
    await expect.poll(() => good.textContent()).toMatch(/enabled.*200.*#1 model\.alias_moved/);
    await expect
      .poll(() => bad.textContent())
      .toMatch(/disabled after 2 consecutive failed deliveries; last: HTTP 500 \(event 1 flotilla\.model\.alias_moved\)/);
    const tried = (await srv.api('GET', `/api/v1/webhooks/${ids.bad}/deliveries`)).body.deliveries.length;
    expect(tried).toBe(2);
    await bad.getByRole('button', { name: 'Enable' }).click();
    // Enabled again, the hook retries the same event (and, still failing, is disabled once more).
    await expect
      .poll(async () => (await srv.api('GET', `/api/v1/webhooks/${ids.bad}/deliveries`)).body.deliveries.length, { timeout: 15_000 })
      .toBeGreaterThan(2);
    expect(errors).toEqual([]);
  }, 60_000);

  it('tells a viewer that webhooks are for admins', async () => {
    const viewer = (await srv.api('POST', '/api/v1/tokens', { name: 'v', role: 'viewer' })).body.token as string;
    const { page } = await openConsole(browser, srv.url, viewer);
    await go(page, '#/webhooks', 'Webhooks');
    await page.getByText('Webhooks are managed by admins.').waitFor();
    expect(await page.locator('table').count()).toBe(0);
  }, 30_000);
});

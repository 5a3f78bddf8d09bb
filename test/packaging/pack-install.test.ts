// The agent as an npm library: real `npm pack` of the bundle package and the agent, installed into a fresh
// app outside the repository (tarballs + the registry cache only), used from plain Node and from a Vite-built
// page in Chromium: create an agent, await ready(), predict, give feedback, close.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium } from 'playwright-core';
import { build } from 'vite';
import { REPO } from '../agent/harness/agent-process.ts';
import { makeBundle, type TestBundle } from '../agent/harness/test-bundles.ts';
import { TRUSTED_HEX } from '../agent/harness/test-keys.ts';
import { referenceOutputs, sampleRow } from '../agent/harness/test-models.ts';
import { serveStatic, type StaticSite } from '../agent/static-site.ts';
import { folderBytes, freshApp, npm, packWorkspaces } from './pack-kit.ts';

const run = promisify(execFile);
const ROW = sampleRow(16, 11);
const MB = 1 << 20;

let tarballs: Map<string, string>;
let app: string;
let bundle: TestBundle;
let site: StaticSite | undefined;
let ownBytes = 0;
const ms = (t: number) => `${(t / 1000).toFixed(1)} s`;
const mb = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`;
/** The version the repository locked, so the install is served from the npm cache. */
const versionInRepo = (name: string): string => JSON.parse(readFileSync(join(REPO, 'node_modules', name, 'package.json'), 'utf8')).version;

beforeAll(async () => {
  const t0 = performance.now();
  [tarballs, bundle] = await Promise.all([
    packWorkspaces(['edge-agent', 'firmware-bundler']),
    makeBundle({ version: '1.0.0', sequence: 1 }),
  ]);
  const packed = performance.now();
  app = freshApp();
  writeFileSync(join(app, 'model.fbundle'), bundle.bytes);
  // --prefer-offline: the registry packages come from the npm cache `npm ci` warmed; only the tarballs are new.
  const install = (specs: string[]) => npm(app, ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', ...specs]);
  await install([tarballs.get('firmware-bundler')!, tarballs.get('edge-agent')!]);
  ownBytes = folderBytes(join(app, 'node_modules'));
  const installed = performance.now();
  // The runtimes are optional peers: an app installs the one it runs (this app runs both).
  await install([`onnxruntime-node@${versionInRepo('onnxruntime-node')}`, `onnxruntime-web@${versionInRepo('onnxruntime-web')}`]);
  console.log(
    `pack ${ms(packed - t0)}, install of the tarballs ${ms(installed - packed)} (${mb(ownBytes)}), of the runtimes ${ms(performance.now() - installed)} (onnxruntime-node ${mb(folderBytes(join(app, 'node_modules/onnxruntime-node')))}, onnxruntime-web ${mb(folderBytes(join(app, 'node_modules/onnxruntime-web')))})`,
  );
}, 420_000);

afterAll(async () => {
  await site?.close();
  // Half a gigabyte per run: never left behind.
  if (app) rmSync(app, { recursive: true, force: true });
  if (tarballs) rmSync(dirname(dirname(tarballs.get('edge-agent')!)), { recursive: true, force: true });
});

describe('npm pack → npm install into a fresh app', () => {
  it('ships built ESM with .d.ts and an exports map, no source, no tests, and needs no tsx', async () => {
    for (const [dir, file] of tarballs) {
      const list = (await run('tar', ['tzf', file])).stdout.split('\n').filter(Boolean);
      expect(list, dir).toContain('package/lib/index.js');
      expect(list, dir).toContain('package/lib/index.d.ts');
      expect(list, dir).toContain('package/README.md');
      expect(
        list.filter((f) => /\.test\.|\/src\/|\/testing\/|\.ts$/.test(f) && !f.endsWith('.d.ts')),
        dir,
      ).toEqual([]);
      console.log(`${dir}: ${(readFileSync(file).length / 1024).toFixed(1)} KB tarball, ${list.length} files`);
    }
    const manifest = JSON.parse(readFileSync(join(app, 'node_modules/@flotilla/edge-agent/package.json'), 'utf8'));
    expect(Object.keys(manifest.exports)).toEqual(['.', './browser', './cli', './package.json']);
    expect(manifest.exports['.']).toEqual({ types: './lib/index.d.ts', default: './lib/index.js' });
    expect(manifest.scripts).toEqual({ postpack: expect.any(String) });
    expect(existsSync(join(app, 'node_modules/tsx'))).toBe(false);
    expect(readFileSync(join(app, 'node_modules/@flotilla/edge-agent/README.md'), 'utf8')).toContain('onnxruntime-node-install=skip');
    // Without a runtime the agent and all it pulls in stay small (onnxruntime-* are optional peers).
    expect(ownBytes).toBeLessThan(40 * MB);
  });

  it('type-checks an app against the installed declarations', async () => {
    await run(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', join(app, 'tsconfig.json')], { cwd: app });
  }, 120_000);

  it('runs in plain Node: create, ready() across the first install, predict, feedback, clean close', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'flotilla-app-data-'));
    const { stdout } = await run(process.execPath, ['app.mjs', 'model.fbundle', TRUSTED_HEX, dataDir, JSON.stringify(ROW)], { cwd: app });
    rmSync(dataDir, { recursive: true, force: true });
    const out = JSON.parse(stdout.trim().split('\n').at(-1)!);
    const expected = await referenceOutputs(bundle.model, ROW);
    expect(out).toMatchObject({
      modelAtStart: null,
      installed: true,
      model: { name: 'classifier', version: '1.0.0', sequence: 1 },
      fed: true,
      eventsOnClose: [],
    });
    expect(out.y.map((v: number) => v.toFixed(4))).toEqual(expected.map((v) => v.toFixed(4)));
  }, 60_000);

  it('builds with Vite and runs in Chromium from the browser entry', async () => {
    const web = join(app, 'web');
    await build({ root: web, configFile: join(web, 'vite.config.mjs'), logLevel: 'warn' });
    writeFileSync(join(web, 'dist/model.fbundle'), bundle.bytes);
    site = await serveStatic(join(web, 'dist'));
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${site.url}/index.html`);
      await page.waitForFunction(() => 'runAgent' in window);
      const out = await page.evaluate(
        ([url, key, row]) =>
          (window as unknown as { runAgent: (u: string, k: string, r: number[]) => Promise<Record<string, unknown>> }).runAgent(
            url,
            key,
            row,
          ),
        [`${site.url}/model.fbundle`, TRUSTED_HEX, ROW] as const,
      );
      const expected = await referenceOutputs(bundle.model, ROW);
      expect(out).toMatchObject({ installed: true, model: { name: 'classifier', version: '1.0.0' }, fed: true });
      expect((out.y as number[]).map((v) => v.toFixed(4))).toEqual(expected.map((v) => v.toFixed(4)));
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 180_000);
});

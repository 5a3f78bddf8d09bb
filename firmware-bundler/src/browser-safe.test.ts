// The core entry runs in browsers: it bundles for the browser platform with no Node built-in, and verifies in Chromium (SPEC §1.2).
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromiumMissing } from '@flotilla/test/support/tools';

const entry = fileURLToPath(new URL('./index.ts', import.meta.url));
const fixtures = fileURLToPath(new URL('../../test/fixtures/bundles/', import.meta.url));

async function browserBundle(format: 'esm' | 'iife', contents?: string) {
  return build({
    ...(contents
      ? { stdin: { contents, resolveDir: fileURLToPath(new URL('.', import.meta.url)), loader: 'ts' } }
      : { entryPoints: [entry] }),
    bundle: true,
    platform: 'browser',
    format,
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
}

describe('browser-safe core [SPEC §1.2]', () => {
  it('src/index.ts bundles for the browser without any Node built-in or Buffer', async () => {
    const result = await browserBundle('esm');
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.filter((p) => p.startsWith('node:') || /^(fs|path|crypto|os|child_process)$/.test(p))).toEqual([]);
    const ours = inputs.filter((p) => p.includes('firmware-bundler/src/'));
    expect(ours.filter((p) => p.includes('/node/') || p.includes('/cli/'))).toEqual([]);
    const code = (file: string) =>
      readFileSync(file, 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/\/\/.*$/gm, '');
    for (const file of ours) expect(code(file), file).not.toMatch(/\bBuffer\b|\bprocess\./);
  });

  describe.skipIf(chromiumMissing())('in Chromium', () => {
    it('verifies the golden bundle and refuses a tampered copy with its code', async () => {
      const { chromium } = await import('playwright-core');
      const code = (await browserBundle('iife', "import * as fb from './index.ts'; (globalThis as any).fb = fb;")).outputFiles[0]!.text;
      const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
      try {
        const page = await browser.newPage();
        await page.addScriptTag({ content: code });
        const result = await page.evaluate(
          ({ bundle, pub }) => {
            const fb = (globalThis as any).fb;
            const bytes = Uint8Array.from(bundle);
            const trusted = [fb.decodePublicKeyFile(pub)];
            const now = Date.parse('2030-01-01T00:00:00Z');
            const opened = fb.openBundle(bytes, trusted, { now });
            const tampered = bytes.slice();
            tampered[100]! ^= 1;
            let refused = 'accepted';
            try {
              fb.openBundle(tampered, trusted, { now });
            } catch (e) {
              refused = (e as { code: string }).code;
            }
            return {
              digest: opened.manifestDigest,
              model: opened.manifest.model.name,
              refused,
              isNode: typeof (globalThis as any).process !== 'undefined',
            };
          },
          { bundle: Array.from(readFileSync(`${fixtures}golden.fbundle`)), pub: readFileSync(`${fixtures}test-signing.pub`, 'utf8') },
        );
        expect(result).toEqual({
          digest: '036e8f93cc221d3a957d0c136b7491dc8735f69f397acf1fa32759494d3ab492',
          model: 'golden-sensor',
          refused: 'BUNDLE_SIGNATURE_INVALID',
          isNode: false,
        });
      } finally {
        await browser.close();
      }
    });
  });
});

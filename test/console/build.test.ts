// The console's production build: it builds, and the JavaScript it adds stays within 300 KB gzipped.
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { viteBuild } from './support/build-console.ts';

/** The budget from issue 9: what the console adds to a page load, gzipped. */
const BUDGET = 300 * 1024;

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));
}

describe('console production build', () => {
  // A private output folder: the e2e tests may be serving web-console/dist meanwhile.
  let out = '';
  afterAll(() => {
    if (out) rmSync(out, { recursive: true, force: true });
  });

  it('builds index.html plus hashed assets, and its JavaScript is at most 300 KB gzipped', () => {
    out = viteBuild();
    const all = files(out);
    const index = readFileSync(join(out, 'index.html'), 'utf8');
    expect(index).toMatch(/<script type="module" crossorigin src="\/assets\/index-[\w-]+\.js"><\/script>/);
    // Nothing from elsewhere: no CDN, no web fonts.
    expect(index).not.toMatch(/https?:\/\//);
    const js = all.filter((f) => f.endsWith('.js'));
    expect(js.length).toBeGreaterThan(0);
    const raw = js.reduce((n, f) => n + statSync(f).size, 0);
    const gz = js.reduce((n, f) => n + gzipSync(readFileSync(f), { level: 9 }).length, 0);
    const css = all.filter((f) => f.endsWith('.css')).reduce((n, f) => n + gzipSync(readFileSync(f), { level: 9 }).length, 0);
    console.log(
      `[console build] JavaScript ${(raw / 1024).toFixed(1)} KB raw, ${(gz / 1024).toFixed(1)} KB gzipped (budget ${BUDGET / 1024} KB); CSS ${(css / 1024).toFixed(1)} KB gzipped; ${js.length} JS file(s)`,
    );
    expect(gz).toBeLessThanOrEqual(BUDGET);
  }, 120_000);
});

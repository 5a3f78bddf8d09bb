// Builds the web console once for the e2e tests: only when dist is missing or older than the sources,
// into a temporary folder renamed into place, so parallel test files never see a half-written dist.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from '../../support/server-process.ts';

export const CONSOLE = join(REPO, 'web-console');
export const DIST = join(CONSOLE, 'dist');
const VITE = join(REPO, 'node_modules/vite/bin/vite.js');

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** Runs `vite build` into `outDir` (default: a fresh temporary folder) and returns it. */
export function viteBuild(outDir = mkdtempSync(join(tmpdir(), 'flotilla-console-'))): string {
  execFileSync(process.execPath, [VITE, 'build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'], {
    cwd: CONSOLE,
    stdio: 'pipe',
    timeout: 120_000,
  });
  return outDir;
}

/** Makes sure web-console/dist holds a build of the current sources. */
export function ensureConsoleBuilt(): void {
  const index = join(DIST, 'index.html');
  const sources = Math.max(newest(join(CONSOLE, 'src')), statSync(join(CONSOLE, 'index.html')).mtimeMs);
  if (existsSync(index) && statSync(index).mtimeMs >= sources) return;
  // Built beside dist (same file system) so the rename into place is atomic.
  const out = viteBuild(mkdtempSync(join(CONSOLE, '.dist-building-')));
  try {
    rmSync(DIST, { recursive: true, force: true });
    renameSync(out, DIST);
  } catch {
    // Another test file won the race with an equally fresh build.
    rmSync(out, { recursive: true, force: true });
  }
}

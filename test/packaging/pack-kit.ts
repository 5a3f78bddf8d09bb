// Packs the library workspaces with the real `npm pack` (their prepack build included) and installs the
// tarballs into a fresh app folder outside the repository, as a user would.
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, lstatSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO } from '../agent/harness/agent-process.ts';

const run = promisify(execFile);

/** Runs npm in `cwd`; its output is returned, a failure throws with npm's stderr. */
export async function npm(cwd: string, args: string[]): Promise<string> {
  const { stdout } = await run('npm', args, { cwd, maxBuffer: 64 << 20, env: { ...process.env, npm_config_update_notifier: 'false' } });
  return stdout;
}

/**
 * Copies the packages to a folder inside test-output/ (so the build still finds the repository's
 * node_modules) and packs them there: prepack swaps package.json while it packs, which must not
 * happen under the live workspace that other test files resolve at the same time.
 */
export async function packLibraries(names: readonly string[]): Promise<Map<string, string>> {
  mkdirSync(join(REPO, 'test-output'), { recursive: true });
  const stage = mkdtempSync(join(REPO, 'test-output', 'pack-'));
  cpSync(join(REPO, 'scripts'), join(stage, 'scripts'), { recursive: true });
  cpSync(join(REPO, 'tsconfig.lib.json'), join(stage, 'tsconfig.lib.json'));
  for (const dir of ['firmware-bundler', 'edge-agent']) {
    for (const part of ['package.json', 'README.md', 'tsconfig.lib.json', 'src']) cpSync(join(REPO, dir, part), join(stage, dir, part), { recursive: true });
  }
  const out = join(stage, 'tarballs');
  mkdirSync(out);
  const tarballs = new Map<string, string>();
  for (const dir of names) {
    const file = (await npm(join(stage, dir), ['pack', '--pack-destination', out, '--loglevel=error'])).trim().split('\n').at(-1)!;
    tarballs.set(dir, join(out, file));
  }
  return tarballs;
}

/** A fresh app folder outside the repository with the app sources of test/packaging/app. */
export function freshApp(): string {
  const app = mkdtempSync(join(tmpdir(), 'flotilla-app-'));
  cpSync(join(REPO, 'test/packaging/app'), app, { recursive: true });
  writeFileSync(join(app, 'package.json'), `${JSON.stringify({ name: 'embedding-app', private: true, type: 'module' }, null, 2)}\n`);
  // The one setting the agent's README asks for: onnxruntime-node ships its CPU binary, the skipped script fetches CUDA.
  writeFileSync(join(app, '.npmrc'), 'onnxruntime-node-install=skip\nfund=false\naudit=false\n');
  return app;
}

/** Bytes under `dir`, every file counted once. */
export function folderBytes(dir: string): number {
  let total = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const s = lstatSync(p, { throwIfNoEntry: false });
    if (!s) continue;
    total += s.isDirectory() ? folderBytes(p) : s.size;
  }
  return total;
}

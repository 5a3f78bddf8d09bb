// Packs the workspaces with the real `npm pack` (their prepack builds included) and installs the tarballs
// into a fresh app folder outside the repository, as a user would.
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, lstatSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO } from '../agent/harness/agent-process.ts';

const run = promisify(execFile);

/** Runs npm in `cwd` (`env` adds to the environment); its output is returned, a failure throws with npm's stderr. */
export async function npm(cwd: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  const { stdout } = await run('npm', args, {
    cwd,
    maxBuffer: 64 << 20,
    env: { ...process.env, npm_config_update_notifier: 'false', ...env },
  });
  return stdout;
}

/** What each workspace's prepack reads: the libraries compile src/, the server builds the console beside it. */
const PACK_SOURCES: Record<string, readonly string[]> = {
  'firmware-bundler': ['package.json', 'README.md', 'tsconfig.lib.json', 'src'],
  'edge-agent': ['package.json', 'README.md', 'tsconfig.lib.json', 'src'],
  server: ['package.json', 'README.md', 'bin', 'src'],
  'web-console': ['package.json', 'index.html', 'vite.config.ts', 'public', 'src'],
};

/**
 * Copies the workspaces to a folder inside test-output/ (so the builds still find the repository's
 * node_modules) and packs the named ones there: prepack swaps package.json (libraries) or writes
 * console/ (server) while it packs, which must not happen under the live workspace that other test
 * files resolve at the same time. Returns each named workspace's tarball.
 */
export async function packWorkspaces(names: readonly string[]): Promise<Map<string, string>> {
  mkdirSync(join(REPO, 'test-output'), { recursive: true });
  const stage = mkdtempSync(join(REPO, 'test-output', 'pack-'));
  cpSync(join(REPO, 'scripts'), join(stage, 'scripts'), { recursive: true });
  cpSync(join(REPO, 'tsconfig.lib.json'), join(stage, 'tsconfig.lib.json'));
  for (const [dir, parts] of Object.entries(PACK_SOURCES)) {
    for (const part of parts) cpSync(join(REPO, dir, part), join(stage, dir, part), { recursive: true });
  }
  const out = join(stage, 'tarballs');
  mkdirSync(out);
  const tarballs = new Map<string, string>();
  for (const dir of names) {
    if (!PACK_SOURCES[dir]) throw new Error(`packWorkspaces: no pack sources listed for '${dir}'`);
    const file = (await npm(join(stage, dir), ['pack', '--pack-destination', out, '--loglevel=error'])).trim().split('\n').at(-1)!;
    tarballs.set(dir, join(out, file));
  }
  return tarballs;
}

/**
 * A fresh app folder outside the repository: the app sources of test/packaging/app (unless `sources`
 * is false) and the `.npmrc` setting the READMEs ask for; `manifest` adds to its package.json.
 */
export function freshApp(o: { sources?: boolean; manifest?: Record<string, unknown> } = {}): string {
  const app = mkdtempSync(join(tmpdir(), 'flotilla-app-'));
  if (o.sources ?? true) cpSync(join(REPO, 'test/packaging/app'), app, { recursive: true });
  writeFileSync(
    join(app, 'package.json'),
    `${JSON.stringify({ name: 'embedding-app', private: true, type: 'module', ...o.manifest }, null, 2)}\n`,
  );
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

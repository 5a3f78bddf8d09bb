#!/usr/bin/env node
// `npm pack` / `npm publish` of the server workspace (prepack/postpack). The server ships as TypeScript
// source that its bin runs through tsx, so nothing is compiled; what the tarball needs besides `src` is
// the operator console, which in the repository lives in another workspace (web-console/dist).
//   prepack:  build the console from ../web-console with Vite straight into ./console (a fresh build,
//             never a stale dist), which `files` ships and api/routes/console.ts serves when installed
//   postpack: remove ./console again, so the repository keeps serving web-console/dist
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';

const OUT = 'console';

function prepack(dir) {
  const web = resolve(dir, '../web-console');
  if (!existsSync(join(web, 'vite.config.ts')))
    throw new Error(`pack-server: the console sources are missing (${web}); pack the server from the repository`);
  const viteManifest = createRequire(join(web, 'package.json')).resolve('vite/package.json');
  const vite = join(dirname(viteManifest), JSON.parse(readFileSync(viteManifest, 'utf8')).bin.vite);
  // --outDir outside web-console: the repository's own dist (which a running server may be serving) is left alone.
  execFileSync(process.execPath, [vite, 'build', '--outDir', join(dir, OUT), '--emptyOutDir', '--logLevel', 'warn'], {
    cwd: web,
    stdio: 'inherit',
  });
  if (!existsSync(join(dir, OUT, 'index.html'))) throw new Error('pack-server: vite build wrote no console/index.html');
}

function postpack(dir) {
  rmSync(join(dir, OUT), { recursive: true, force: true });
}

const [step] = process.argv.slice(2);
if (step === 'prepack') prepack(process.cwd());
else if (step === 'postpack') postpack(process.cwd());
else throw new Error(`pack-server: unknown step '${step ?? ''}' (prepack | postpack)`);

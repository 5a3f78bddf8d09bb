#!/usr/bin/env node
// `npm pack` / `npm publish` of a library workspace (prepack/postpack): builds lib/ (ESM + .d.ts) with
// tsc, and swaps in the published manifest for the duration of the pack. In the repository the
// manifest's `exports` name the TypeScript source (tsx runs it, no build step); the tarball's name lib/.
//   prepack:  build the @flotilla libraries this one depends on, then this one; write the published manifest
//   postpack: put the repository manifest back
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';

const SAVED = 'package.repo.json';
const readJson = (p) => JSON.parse(readFileSync(p, 'utf8'));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

/** Builds `dir`/lib from `dir`/tsconfig.lib.json (a clean build: stale files must not ship). */
function build(dir) {
  rmSync(join(dir, 'lib'), { recursive: true, force: true });
  execFileSync(process.execPath, [tsc, '-p', join(dir, 'tsconfig.lib.json')], { stdio: 'inherit' });
}

/** Workspace folders beside this one that hold a library build, by package name. */
function siblingLibraries(dir) {
  const root = dirname(resolve(dir));
  const out = new Map();
  for (const name of readdirSync(root)) {
    const pkg = join(root, name, 'package.json');
    if (existsSync(pkg) && existsSync(join(root, name, 'tsconfig.lib.json'))) out.set(readJson(pkg).name, join(root, name));
  }
  return out;
}

/** The manifest users install: `publishConfig.exports` as `exports`, only lib/ and the README, no dev fields. */
export function publishedManifest(repo) {
  const { publishConfig, devDependencies: _dev, scripts: _scripts, ...rest } = repo;
  const { exports, ...publishRest } = publishConfig ?? {};
  if (!exports) throw new Error(`${repo.name}: publishConfig.exports is missing`);
  return {
    ...rest,
    exports,
    types: exports['.']?.types,
    files: ['lib', 'README.md'],
    ...(Object.keys(publishRest).length ? { publishConfig: publishRest } : {}),
    // Kept so npm puts the repository manifest back after packing; never run on install.
    scripts: { postpack: repo.scripts.postpack },
  };
}

function prepack(dir) {
  if (existsSync(join(dir, SAVED))) postpack(dir); // an interrupted pack left the swap behind
  const repo = readJson(join(dir, 'package.json'));
  const libs = siblingLibraries(dir);
  for (const dep of Object.keys(repo.dependencies ?? {})) if (libs.has(dep)) build(libs.get(dep));
  build(dir);
  copyFileSync(join(dir, 'package.json'), join(dir, SAVED));
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(publishedManifest(repo), null, 2)}\n`);
}

function postpack(dir) {
  if (existsSync(join(dir, SAVED))) renameSync(join(dir, SAVED), join(dir, 'package.json'));
}

const [step] = process.argv.slice(2);
if (step === 'prepack') prepack(process.cwd());
else if (step === 'postpack') postpack(process.cwd());
else if (step) throw new Error(`unknown step ${step}`);

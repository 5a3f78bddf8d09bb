// What a run needs recorded to be reproduced: code version, package versions, hardware.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';

export interface CodeVersion {
  commit: string | null;
  dirty: boolean | null;
}

export interface Hardware {
  cpuModel: string;
  cores: number;
  memoryBytes: number;
  platform: string;
  arch: string;
  gpu: string | null;
}

let cachedCode: CodeVersion | undefined;

/** Git commit of the running code and whether the tree had uncommitted changes (null outside git). */
export function codeVersion(): CodeVersion {
  if (cachedCode) return cachedCode;
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const status = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    cachedCode = { commit, dirty: status.trim().length > 0 };
  } catch {
    cachedCode = { commit: null, dirty: null };
  }
  return cachedCode;
}

/** Hardware of this machine; GPU from nvidia-smi when present. */
export function hardware(): Hardware {
  let gpu: string | null = null;
  try {
    gpu =
      execFileSync('nvidia-smi', ['--query-gpu=name', '--format=csv,noheader'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
        timeout: 3000,
      }).trim() || null;
  } catch {
    gpu = null;
  }
  return {
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memoryBytes: os.totalmem(),
    platform: os.platform(),
    arch: os.arch(),
    gpu,
  };
}

const require = createRequire(import.meta.url);

/** Installed versions of the packages that decide a model's numbers. */
export function packageVersions(): Record<string, string> {
  const out: Record<string, string> = { node: process.versions.node };
  for (const name of [
    '@tensorflow/tfjs',
    '@tensorflow/tfjs-backend-wasm',
    '@tensorflow/tfjs-backend-webgpu',
    'webgpu',
    'onnxruntime-node',
    'onnxruntime-web',
    '@flotilla/server',
  ]) {
    try {
      const pkgPath = require.resolve(`${name}/package.json`);
      out[name] = (JSON.parse(readFileSync(pkgPath, 'utf8')) as { version: string }).version;
    } catch {
      // not installed: simply not recorded
    }
  }
  return out;
}

// Picks the TensorFlow.js backend at run time (native GPU, WebGPU, native CPU, wasm, plain JS) and records why.
import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { BackendUnavailableError } from './training-errors.ts';
import { registerWasmTrainingKernels } from './wasm-kernels.ts';
import { firstLine, probeWebgpu, type GpuAdapter } from './webgpu-backend.ts';

/** Backends in the order they are tried: fastest first (webgpu on a software adapter is refused unless allowed). */
export const BACKEND_ORDER = ['tfjs-node-gpu', 'webgpu', 'tfjs-node', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_ORDER)[number];

export interface BackendInfo {
  /** Which backend is active now. */
  name: BackendName;
  /** Version of the package providing it. */
  version: string;
  /** Worker threads the backend computes with (wasm only; 1 in Node, see below). */
  threads?: number;
  /** Whether the wasm binary in use is the SIMD build (wasm only). */
  simd?: boolean;
  /** The GPU adapter in use (webgpu only): vendor, architecture, device, driver. */
  adapter?: GpuAdapter;
  /** Backends tried before this one, with the reason each could not be used. */
  skipped: { name: BackendName; reason: string }[];
}

export interface SelectBackendOptions {
  /** Try this backend first, then the rest of BACKEND_ORDER. Default: none (plain order). */
  prefer?: BackendName;
  /** With `prefer`: throw BackendUnavailableError instead of falling back. Default false. */
  strict?: boolean;
  /**
   * Let webgpu run on a software adapter (lavapipe): right for correctness tests, slower than wasm
   * for real work. Default: the FLOTILLA_WEBGPU_ALLOW_SOFTWARE=1 environment variable.
   */
  allowSoftwareGpu?: boolean;
}

const require = createRequire(import.meta.url);

/** tfjs backend names registered by each package. */
const TF_NAME: Record<BackendName, string> = {
  'tfjs-node-gpu': 'tensorflow',
  webgpu: 'webgpu',
  'tfjs-node': 'tensorflow',
  wasm: 'wasm',
  cpu: 'cpu',
};

type Attempt = { ok: true; version: string; threads?: number; simd?: boolean; adapter?: GpuAdapter } | { ok: false; reason: string };
// One attempt per backend per process: a failed native import is not retried, and wasm starts once.
const attempts = new Map<BackendName, Promise<Attempt>>();

async function tryNative(pkg: 'tfjs-node-gpu' | 'tfjs-node'): Promise<Attempt> {
  // Both native packages register a backend called "tensorflow"; once one has loaded the other must not.
  const other = pkg === 'tfjs-node' ? 'tfjs-node-gpu' : 'tfjs-node';
  const otherAttempt = attempts.get(other);
  if (otherAttempt && (await otherAttempt).ok) return { ok: false, reason: `@tensorflow/${other} is already loaded` };
  try {
    const specifier = `@tensorflow/${pkg}`;
    // A variable specifier keeps TypeScript from requiring type declarations for optional packages.
    const mod = (await import(specifier)) as { version?: Record<string, string> };
    if (!(await tf.setBackend('tensorflow'))) return { ok: false, reason: 'backend "tensorflow" failed to initialise' };
    return { ok: true, version: mod.version?.['tfjs-node'] ?? tf.version_core };
  } catch (err) {
    return { ok: false, reason: firstLine(err) };
  }
}

async function tryWasm(): Promise<Attempt> {
  try {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    // Local file paths: the Node build reads the .wasm with fs, so nothing touches the network.
    const dist = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep;
    wasm.setWasmPaths(dist);
    registerWasmTrainingKernels();
    if (!(await tf.setBackend('wasm'))) return { ok: false, reason: 'wasm backend failed to initialise' };
    // tfjs-backend-wasm disables its threaded build under Node (tensorflow/tfjs#3830), so this reads 1.
    const threads = wasm.getThreadsCount();
    const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
    return { ok: true, version: wasm.version_wasm, threads, simd };
  } catch (err) {
    return { ok: false, reason: firstLine(err) };
  }
}

async function tryCpu(): Promise<Attempt> {
  try {
    if (!(await tf.setBackend('cpu'))) return { ok: false, reason: 'cpu backend failed to initialise' };
    // The cpu backend prints an "install tfjs-node" banner on first use; the choice and the reasons
    // are already recorded in BackendInfo, so keep stderr quiet.
    const cpu = tf.backend() as { firstUse?: boolean };
    if (cpu.firstUse) cpu.firstUse = false;
    return { ok: true, version: tf.version_core };
  } catch (err) {
    return { ok: false, reason: firstLine(err) };
  }
}

function attempt(name: BackendName): Promise<Attempt> {
  let p = attempts.get(name);
  if (!p) {
    p = name === 'wasm' ? tryWasm() : name === 'cpu' ? tryCpu() : name === 'webgpu' ? probeWebgpu() : tryNative(name);
    attempts.set(name, p);
  }
  return p;
}

/**
 * Makes the best available backend active and says which one it is.
 * Order: tfjs-node-gpu, webgpu, tfjs-node, wasm, cpu (`prefer` moves one to the front). Each backend is
 * tried at most once per process, so calling this again is cheap and returns the same choice;
 * calling it with another `prefer` switches the active backend.
 * @throws BackendUnavailableError when nothing starts, or `strict` and the preferred one fails.
 */
export async function selectBackend(opts: SelectBackendOptions = {}): Promise<BackendInfo> {
  const order: BackendName[] = opts.prefer ? [opts.prefer, ...BACKEND_ORDER.filter((b) => b !== opts.prefer)] : [...BACKEND_ORDER];
  const allowSoftware = opts.allowSoftwareGpu ?? process.env.FLOTILLA_WEBGPU_ALLOW_SOFTWARE === '1';
  const skipped: BackendInfo['skipped'] = [];
  for (const name of order) {
    const result = await attempt(name);
    const reason = !result.ok ? result.reason : refusal(result, allowSoftware);
    if (!reason) {
      // A cached success may belong to a backend that is no longer active; switching back is cheap.
      if (tf.getBackend() === TF_NAME[name] || (await tf.setBackend(TF_NAME[name])))
        return describe(name, result as Extract<Attempt, { ok: true }>, skipped);
    }
    skipped.push({ name, reason: reason ?? `backend "${TF_NAME[name]}" failed to initialise` });
    if (opts.strict && name === opts.prefer)
      throw new BackendUnavailableError(`backend ${name} is unavailable: ${skipped.at(-1)!.reason}`, skipped);
  }
  throw new BackendUnavailableError('no TensorFlow.js backend could be started', skipped);
}

/** Why a backend that started must still not be used, or null. */
function refusal(result: Extract<Attempt, { ok: true }>, allowSoftware: boolean): string | null {
  const a = result.adapter;
  if (!a?.software || allowSoftware) return null;
  return `only the software adapter ${a.device} (${a.driver}) is available; set FLOTILLA_WEBGPU_ALLOW_SOFTWARE=1 to use it`;
}

function describe(name: BackendName, result: Extract<Attempt, { ok: true }>, skipped: BackendInfo['skipped']): BackendInfo {
  const info: BackendInfo = { name, version: result.version, skipped };
  if (result.threads !== undefined) info.threads = result.threads;
  if (result.simd !== undefined) info.simd = result.simd;
  if (result.adapter) info.adapter = { ...result.adapter };
  return info;
}

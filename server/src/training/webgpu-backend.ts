// The webgpu training backend: Dawn (npm `webgpu`, dawn.node) on Vulkan, driving tfjs-backend-webgpu.
// Dawn finds adapters through the Vulkan loader (libvulkan1) and whatever ICDs are installed:
// NVIDIA's on a GPU machine, Mesa's lavapipe (a CPU rasteriser) on one without. See docs/gpu.md.
import * as tf from '@tensorflow/tfjs';

/** The adapter Dawn handed out, as recorded in lineage. */
export interface GpuAdapter {
  /** e.g. "nvidia", "mesa". */
  vendor: string;
  /** e.g. "ampere", "software". */
  architecture: string;
  /** The device name Dawn reports, e.g. "llvmpipe-llvm-15-0-6-256-bits-". */
  device: string;
  /** Driver name and version as Vulkan reports them, e.g. "NVIDIA: 550.54.15". */
  driver: string;
  /** True for a CPU implementation such as lavapipe/llvmpipe or SwiftShader. */
  software: boolean;
}

export type WebgpuProbe = { ok: true; version: string; adapter: GpuAdapter } | { ok: false; reason: string };

type DawnAdapter = GPUAdapter & { info: GPUAdapterInfo & { isFallbackAdapter?: boolean } };

/** Whether `adapter` is a CPU implementation: Dawn flags lavapipe as a fallback with architecture "software". */
export function isSoftwareAdapter(a: Pick<GpuAdapter, 'architecture' | 'device' | 'driver'> & { fallback?: boolean }): boolean {
  return Boolean(a.fallback) || a.architecture === 'software' || /llvmpipe|lavapipe|swiftshader/i.test(`${a.device} ${a.driver}`);
}

/**
 * Loads Dawn, asks it for a high-performance adapter and registers tfjs's "webgpu" backend on it.
 * Does not activate the backend: the caller decides whether a software adapter is acceptable.
 */
export async function probeWebgpu(): Promise<WebgpuProbe> {
  let dawn: typeof import('webgpu');
  let tfWebgpu: typeof import('@tensorflow/tfjs-backend-webgpu');
  try {
    dawn = await import('webgpu');
    tfWebgpu = await import('@tensorflow/tfjs-backend-webgpu');
  } catch (err) {
    return { ok: false, reason: `the optional packages webgpu and @tensorflow/tfjs-backend-webgpu did not load: ${firstLine(err)}` };
  }
  try {
    return await startDawn(dawn, tfWebgpu);
  } catch (err) {
    return { ok: false, reason: `Dawn could not open the GPU: ${firstLine(err)}` };
  }
}

async function startDawn(dawn: typeof import('webgpu'), tfWebgpu: typeof import('@tensorflow/tfjs-backend-webgpu')): Promise<WebgpuProbe> {
  // tfjs-backend-webgpu refers to GPUBufferUsage, GPUMapMode, ... as globals, as in a browser.
  for (const [k, v] of Object.entries(dawn.globals)) if (!(k in globalThis)) Object.assign(globalThis, { [k]: v });
  const gpu = dawn.create([]);
  // WebGPUBackend's constructor checks navigator.gpu; Node 20 has no navigator, Node 21+ one without gpu.
  const nav = ((globalThis as { navigator?: object }).navigator ??= {}) as { gpu?: GPU };
  if (!nav.gpu) Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true });
  const raw = (await gpu.requestAdapter({ powerPreference: 'high-performance' })) as DawnAdapter | null;
  if (!raw)
    return {
      ok: false,
      reason: 'Dawn saw no Vulkan device (is libvulkan1 installed, and a Vulkan driver such as the NVIDIA ICD or Mesa lavapipe 25?)',
    };
  const info = raw.info;
  const adapter: GpuAdapter = {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    driver: info.description,
    software: false,
  };
  adapter.software = isSoftwareAdapter({ ...adapter, fallback: info.isFallbackAdapter });
  // Same limits tfjs asks for in a browser: the adapter's maxima, so large convolutions fit.
  const l = raw.limits;
  const device = await raw.requestDevice({
    requiredFeatures: raw.features.has('timestamp-query') ? ['timestamp-query'] : [],
    requiredLimits: {
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
    },
  });
  // Registered by hand: tfjs's own registration needs navigator.gpu, which Node 20 lacks.
  tf.registerBackend('webgpu', () => new tfWebgpu.WebGPUBackend(device, info), 0);
  return { ok: true, version: tf.version_core, adapter };
}

export function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0]?.trim() || 'unknown error';
}

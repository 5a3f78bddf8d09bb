// Polls nvidia-smi while the webgpu runs train, to show the GPU really did the work: either this
// process is listed among the GPU's processes, or the GPU's used memory rose above its idle level.
// Inside a container nvidia-smi often cannot map PIDs, hence the memory fallback.
import { execFile } from 'node:child_process';

export interface GpuUse {
  /** nvidia-smi ran at least once. */
  available: boolean;
  gpuName: string | null;
  driverVersion: string | null;
  /** Memory in use before training started, MiB. */
  idleMemoryMiB: number | null;
  /** Highest memory in use seen while training, MiB. */
  peakMemoryMiB: number | null;
  /** Highest utilisation seen while training, percent. */
  peakUtilisation: number | null;
  /** This process's PID appeared in --query-compute-apps (Vulkan compute shows there). */
  processListed: boolean;
  samples: number;
}

function smi(args: string[]): Promise<string | null> {
  return new Promise((resolve) => {
    execFile('nvidia-smi', args, { timeout: 5000 }, (err, stdout) => resolve(err ? null : stdout.trim()));
  });
}

async function gpuStatus(): Promise<{ name: string; driver: string; memory: number; util: number } | null> {
  const out = await smi(['--query-gpu=name,driver_version,memory.used,utilization.gpu', '--format=csv,noheader,nounits']);
  const [name, driver, memory, util] = (out?.split('\n')[0] ?? '').split(',').map((s) => s.trim());
  if (!name || memory === undefined) return null;
  return { name, driver: driver ?? '', memory: Number(memory), util: Number(util) };
}

/** Starts polling; `stop()` ends it and returns what was seen. */
export async function watchGpu(periodMs = 500): Promise<{ stop: () => Promise<GpuUse> }> {
  const idle = await gpuStatus();
  const use: GpuUse = {
    available: idle !== null,
    gpuName: idle?.name ?? null,
    driverVersion: idle?.driver ?? null,
    idleMemoryMiB: idle?.memory ?? null,
    peakMemoryMiB: idle?.memory ?? null,
    peakUtilisation: idle?.util ?? null,
    processListed: false,
    samples: 0,
  };
  let running = idle !== null;
  const loop = (async () => {
    while (running) {
      const [s, apps] = await Promise.all([gpuStatus(), smi(['--query-compute-apps=pid,used_memory', '--format=csv,noheader,nounits'])]);
      if (s) {
        use.samples++;
        use.peakMemoryMiB = Math.max(use.peakMemoryMiB ?? 0, s.memory);
        use.peakUtilisation = Math.max(use.peakUtilisation ?? 0, s.util);
      }
      if (apps?.split('\n').some((line) => Number(line.split(',')[0]) === process.pid)) use.processListed = true;
      await new Promise((r) => setTimeout(r, periodMs));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return use;
    },
  };
}

// Turns the GPU check's measurements into one pass/fail verdict with a reason per criterion.
import type { GpuAdapter } from '../../server/src/training/webgpu-backend.ts';
import type { GpuUse } from './gpu-monitor.ts';

export type RunFigures =
  | {
      model: 'cnn' | 'wideCnn';
      backend: 'webgpu' | 'wasm';
      epoch1Loss: number;
      testAccuracy: number;
      samplesPerSec: number;
      seconds: number;
    }
  | { model: 'cnn' | 'wideCnn'; backend: 'webgpu' | 'wasm'; error: string };

export interface CheckInput {
  dryRun: boolean;
  adapter: GpuAdapter | null;
  runs: RunFigures[];
  gpuUse: GpuUse | null;
  seconds: number;
  tfjs: string;
  /** What run.sh found: nvidia-smi -L, Vulkan ICD files, libGLX_nvidia. */
  diag: string | null;
}

/** The thresholds the issue sets. */
export const LIMITS = { minCnnAccuracy: 0.9, maxLossGap: 0.02, maxAccuracyGap: 0.03, maxSeconds: 420 } as const;

type Check = { pass: boolean; detail: string };

export function judge(input: CheckInput) {
  const get = (model: 'cnn' | 'wideCnn', backend: 'webgpu' | 'wasm') => {
    const r = input.runs.find((x) => x.model === model && x.backend === backend);
    return r && 'epoch1Loss' in r ? r : null;
  };
  const a = input.adapter;
  const checks: Record<string, Check> = {
    nvidiaAdapter: {
      pass: Boolean(a && /nvidia/i.test(a.vendor) && !a.software),
      detail: a ? `${a.vendor} ${a.architecture} ${a.device}, driver ${a.driver}${a.software ? ' (software)' : ''}` : 'no adapter',
    },
  };
  const cnnGpu = get('cnn', 'webgpu');
  checks['cnnAccuracy'] = {
    pass: Boolean(cnnGpu && cnnGpu.testAccuracy >= LIMITS.minCnnAccuracy),
    detail: cnnGpu
      ? `webgpu CNN test accuracy ${cnnGpu.testAccuracy.toFixed(4)} (need >= ${LIMITS.minCnnAccuracy})`
      : 'the CNN did not train on webgpu',
  };
  for (const model of ['cnn', 'wideCnn'] as const) {
    const g = get(model, 'webgpu');
    const w = get(model, 'wasm');
    const lossGap = g && w ? Math.abs(g.epoch1Loss - w.epoch1Loss) / w.epoch1Loss : NaN;
    const accGap = g && w ? Math.abs(g.testAccuracy - w.testAccuracy) : NaN;
    checks[`${model}Agrees`] = {
      pass: lossGap <= LIMITS.maxLossGap && accGap <= LIMITS.maxAccuracyGap,
      detail:
        g && w
          ? `epoch-1 loss ${g.epoch1Loss.toFixed(4)} vs ${w.epoch1Loss.toFixed(4)} (${(lossGap * 100).toFixed(2)}%), test accuracy gap ${accGap.toFixed(4)}`
          : 'a run is missing',
    };
  }
  const u = input.gpuUse;
  const memRise = u && u.peakMemoryMiB !== null && u.idleMemoryMiB !== null ? u.peakMemoryMiB - u.idleMemoryMiB : null;
  checks['gpuBusy'] = {
    pass: Boolean(u?.available && (u.processListed || (memRise ?? 0) >= 64)),
    detail: u?.available
      ? `nvidia-smi: process listed ${u.processListed}, memory ${u.idleMemoryMiB} -> ${u.peakMemoryMiB} MiB, peak utilisation ${u.peakUtilisation}%`
      : 'nvidia-smi did not run',
  };
  checks['withinTime'] = {
    pass: input.seconds <= LIMITS.maxSeconds,
    detail: `${input.seconds.toFixed(0)} s of training (limit ${LIMITS.maxSeconds} s)`,
  };
  const wideG = get('wideCnn', 'webgpu');
  const wideW = get('wideCnn', 'wasm');
  const speedup = wideG && wideW ? Math.round((wideG.samplesPerSec / wideW.samplesPerSec) * 100) / 100 : null;
  const failed = Object.entries(checks)
    .filter(([, c]) => !c.pass)
    .map(([k]) => k);
  return {
    pass: failed.length === 0 && !input.dryRun,
    dryRun: input.dryRun,
    failed,
    wideCnnSpeedupWebgpuOverWasm: speedup,
    checks,
    adapter: a,
    gpu: u,
    runs: input.runs,
    tfjs: input.tfjs,
    diag: input.diag,
    node: process.versions.node,
  };
}

// The benchmarks `flotilla bench` knows, by name, each defined by the issue that asked for it.
import type { BenchModule } from './bench-types.ts';

export const BENCHMARKS: Record<string, { description: string; load: () => Promise<BenchModule> }> = {
  training: {
    description: 'training throughput (samples/s), webgpu vs wasm vs cpu backend, same models',
    load: () => import('./training.ts'),
  },
  inference: {
    description: 'median latency batch 1/64: tfjs wasm, onnxruntime-node float/int8, onnxruntime-web float/adapter',
    load: () => import('./inference.ts'),
  },
  bundle: { description: 'bundle diff: bytes a device must fetch after a last-layer-only retrain', load: () => import('./bundle-diff.ts') },
  broker: {
    description: 'embedded aedes vs external Mosquitto + dynsec vs plain mosquitto: idle devices, QoS 1 throughput, latency, overload',
    load: () => import('./broker.ts'),
  },
  telemetry: {
    description: 'telemetry windows/s ingested with drift computed into SQLite, and end-to-end lag',
    load: () => import('./telemetry.ts'),
  },
  rollout: {
    description: 'rollout to 1,000 simulated agents: seconds until all run a ~1 MB bundle, bytes served, last-layer delta',
    load: () => import('./rollout.ts'),
  },
  'int8-range': {
    description: 'int8 with 7-bit weights (exact on every CPU) vs full 8-bit: accuracy and latency, MNIST MLP and CNN',
    load: () => import('./int8-range.ts'),
  },
  'real-models': {
    description: 'the quantizer on real exported models (one per architecture): int8 vs float latency at batch 1, sizes, gate',
    load: () => import('./real-models.ts'),
  },
  enrollment: {
    description: 'enrollment by claim of 10,000 devices against a real server (throughput), then rotating every credential (time)',
    load: () => import('./enrollment.ts'),
  },
  'rollout-status': {
    description: 'device status messages recorded per second by the rollout bookkeeping (SQLite), devices with 100 past rollouts',
    load: () => import('./rollout-status.ts'),
  },
  agent: { description: 'agent.predict overhead vs a bare onnxruntime session; agent resident memory', load: () => import('./agent.ts') },
};

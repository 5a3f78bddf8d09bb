// The fleet simulator's public face: many real agents, in this process or in worker processes, with injected faults and cohort inputs.
export { FleetSimulator, type SimulatorOptions, type CohortStats } from './fleet-simulator.ts';
export type { SimDeviceState } from './shard-protocol.ts';
export { FaultyRuntime, SharedSessionRuntime, type RuntimeFaults } from './sim-runtime.ts';
export { SimStorage } from './sim-storage.ts';
export { startFlakyProxy, type FlakyProxy } from './flaky-proxy.ts';
export { snow, TRANSFORMS, type InputTransform } from './input-transforms.ts';

// The fleet simulator's public face: many real agents in one process, with injected faults and cohort inputs.
export { FleetSimulator, type SimulatorOptions, type SimDeviceState, type CohortStats } from './fleet-simulator.ts';
export { FaultyRuntime, type RuntimeFaults } from './sim-runtime.ts';
export { startFlakyProxy, type FlakyProxy } from './flaky-proxy.ts';
export { snow, TRANSFORMS, type InputTransform } from './input-transforms.ts';

// The rollout engine's public face: the engine and its ports, the request schema, store seam (routes: api/routes/rollouts.ts).
//
// Wiring (in server/src/main.ts): `new RolloutEngine({ store: store.rollouts, devices, desired, health,
// bundles, audit: store.audit })` with adapters for the four ports, `startRolloutTicker(engine)`, and
// `engine.recordStatus(deviceId, event)` for every deployment status event [WIRE-2.4] delivery receives.
export {
  RolloutEngine,
  OPERATOR_ACTIONS,
  type OperatorAction,
  type DeviceStatus,
  type RolloutEngineDeps,
  type TickReport,
} from './rollout-engine.ts';
export type {
  BundleResolver,
  Clock,
  DesiredStatePort,
  DeviceDirectory,
  HealthPort,
  RolloutBundle,
  StageHealth,
  StageQuery,
  TargetDevice,
} from './ports.ts';
export { systemClock } from './ports.ts';
export { RolloutError, type RolloutErrorCode } from './rollout-error.ts';
export {
  DEFAULT_GATES,
  Gates,
  Policy,
  RolloutRequest,
  Stage,
  parseDuration,
  parseRolloutRequest,
  parseStagesShorthand,
  type RolloutRequestInput,
  type RolloutSpec,
} from './rollout-spec.ts';
export { Target, matchesTarget, parseTargetShorthand, describeTarget, type TargetFacts } from './target.ts';
export {
  evaluateGates,
  transition,
  ROLLOUT_STATES,
  STAGE_STATES,
  type GateVerdict,
  type RolloutState,
  type StageState,
  type StageStats,
} from './rollout-machine.ts';
export { ROLLOUT_DEVICE_STATES, type RolloutDeviceState } from './device-state.ts';
export { cohortHash, planCohorts } from './cohorts.ts';
export type { RolloutStore, RolloutWrite, Membership } from './rollout-store.ts';
export type { Rollout, RolloutDevice, RolloutDeviceDetail, RolloutEventRecord, TimelineEntry } from './rollout-types.ts';
export type { RolloutStatus, StageStatus } from './rollout-status.ts';
export { startRolloutTicker, type RolloutTicker } from './rollout-ticker.ts';
export { DEFAULT_SILENT_SEC } from './silent-members.ts';

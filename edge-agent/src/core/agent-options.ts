// The options of the transport-independent agent core, and its events.
import type { Sha256Hex, TrustedKeys } from '@flotilla/firmware-bundler';
import type { DeployState, TelemetryWindow } from '@flotilla/firmware-bundler/wire';
import type { AgentStorage } from '../storage/agent-storage.ts';
import type { InferenceRuntime } from '../runtime/inference-runtime.ts';
import type { BlobSource } from '../transport/blob-source.ts';
import type { ServerLink } from '../transport/server-link.ts';
import type { TelemetryOptions } from '../telemetry/telemetry-service.ts';
import type { StepPhase } from '../update/state-machine.ts';
import type { ModelInfo } from '../model/active-model.ts';
import type { AcceleratorOptions } from '../model/accelerator.ts';
import type { FailedBundle } from '../update/update-record.ts';
import type { RetryOptions } from '../update/retry-policy.ts';

/** The composed parts of an agent (Node and browser entries build these from their own options). */
export interface AgentCoreOptions {
  deviceId: string;
  storage: AgentStorage;
  runtime: InferenceRuntime;
  /** Public keys this device was provisioned with; only bundles they signed are accepted. */
  trustedKeys: TrustedKeys;
  /** The server connection, or null for an agent that only serves and takes sideloaded bundles. */
  link: ServerLink | null;
  /** Where missing chunks come from, or null (sideload only). */
  blobSource: BlobSource | null;
  /** SHA-256 (hex). Default @noble/hashes; the Node entry passes node:crypto's. */
  hash?: Sha256Hex;
  telemetry?: TelemetryOptions;
  /**
   * A GPU runtime the agent may serve on. Each model is probed on it: kept only when the bundle lists its
   * provider, the self-tests pass on it and it is faster than `runtime`; otherwise `runtime` serves.
   */
  accelerator?: AcceleratorOptions;
  /** Time budget of a probe (model load + self-tests) in ms. Default 10000. */
  probeBudgetMs?: number;
  /** Restarts an update may resume from before the loop guard ends it. Default 5. */
  maxResumes?: number;
  /** Crash-test hook at every step boundary of the update flow. */
  onStep?: (state: DeployState, phase: StepPhase) => void;
  /** Clock in ms since the epoch. Default Date.now. */
  now?: () => number;
  /** Diagnostics (one line each). */
  log?: (line: string) => void;
  /** How often a waiting update looks at the clock again (windows, the lock's maximum hold), in ms. Default 30000. */
  updateCheckMs?: number;
  /** Retries of transiently failed updates (storage, network) [WIRE-2.4.3]. Default 1 s doubling to 5 min, 8 attempts. */
  updateRetry?: RetryOptions;
}

/** A deployment state change, as the app sees it. */
export interface StateChange {
  from: DeployState;
  to: DeployState;
  event: string;
  reason: string;
  /** Desired-state id of the bundle the update is about. */
  bundleId: string | null;
}

/** Events of an agent, by name. */
export interface AgentEvents extends Record<string, unknown> {
  /** The serving model changed (after a passed probe, a rollback, or at start-up). */
  model: { model: ModelInfo | null; previous: ModelInfo | null };
  /** Every deployment state change, with its reason [WIRE-2.4]. */
  state: StateChange;
  /** Nothing is left to do for the desired bundle: it serves, or it failed here (see `lastFailed`). */
  settled: { model: ModelInfo | null; state: DeployState; lastFailed: FailedBundle | null };
  /** The server connection came up or went down. */
  connection: { online: boolean };
  /** A telemetry window closed and was queued. */
  telemetry: TelemetryWindow;
  /** A downloaded blob failed verification and is fetched again. */
  rejected: { digest: string; reason: string };
  /** The shadow model was loaded (model), unloaded (null), or could not be loaded (error) [WIRE-2.2.1]. */
  shadow: { model: ModelInfo | null; error?: { code: string; message: string } };
  /** Something went wrong outside any call the app made. */
  error: { code: string; message: string };
}

// A device's state within one rollout, and how a deployment status event [WIRE-2.4] moves it.
import type { DeployState, WaitKind } from '@flotilla/firmware-bundler/wire';

/** From `notified` to the agent's own install states [WIRE-2.4]: the device has the bundle in hand or is being told. */
const INSTALLING_STATES = [
  'notified',
  'downloading',
  'verifying',
  'staging',
  'activating',
  'probing',
  'committing',
  'rolling_back',
] as const;

export const ROLLOUT_DEVICE_STATES = [
  'planned',
  'excluded',
  ...INSTALLING_STATES,
  'waiting_window',
  'waiting_lock',
  'waiting_condition',
  'waiting_network',
  'stalled',
  'updated',
  'failed',
  'rollback_pending',
  'rolled_back',
  'superseded',
] as const;
/**
 * `planned`: assigned to a stage, not yet told. `excluded`: beyond the last stage's share of the
 * target. `notified`: its desired (or shadow) state names the bundle. The agent's states follow.
 * `updated`: committed. `failed`: the install failed or the agent rolled itself back.
 * `rollback_pending` → `rolled_back`: the engine asked it back to its previous bundle.
 * `superseded`: a newer rollout of the same model took the device over. `waiting_*` [WIRE-2.4.2]: the
 * agent waits on a maintenance window, the app's update lock, a device condition, or (`waiting_network`)
 * it failed transiently and will try again at the time it gave. `stalled`: the device's own storage failed
 * (a full disk: a `stalled` status event [WIRE-2.4.1], or a failure with `AGENT_STORAGE_FAILED`); the agent
 * retries with backoff, but nothing moves until its disk has room, so the rollout shows it apart. The
 * server also marks `stalled` a `notified` device that sent no status event within its deadline
 * (silent-members.ts): whatever it reports next moves it on.
 */
export type RolloutDeviceState = (typeof ROLLOUT_DEVICE_STATES)[number];

/** States in which the device has been told about the bundle (and may need rolling back). */
export const NOTIFIED_STATES: readonly RolloutDeviceState[] = [
  ...INSTALLING_STATES,
  'updated',
  'failed',
  'waiting_window',
  'waiting_lock',
  'waiting_condition',
  'waiting_network',
  'stalled',
];

/** The waiting states, by what the devices wait on (the rollout status counts them per stage). */
export const WAITING_STATES = {
  window: 'waiting_window',
  lock: 'waiting_lock',
  condition: 'waiting_condition',
  network: 'waiting_network',
} as const;

/** States that still belong to the rollout (counted by gates and by the conflict rule). */
export const isMember = (s: RolloutDeviceState): boolean => s !== 'excluded' && s !== 'superseded';

/**
 * The next state after the agent reports `from → to`. Events for devices the rollout has not told
 * anything, or has let go, change nothing (they still go on the timeline).
 */
export function nextDeviceState(
  current: RolloutDeviceState,
  ev: { from: DeployState; to: DeployState; event?: string; reason?: string; waiting?: { kind: WaitKind }; retryAt?: string },
): RolloutDeviceState {
  if (current === 'planned' || current === 'excluded' || current === 'superseded') return current;
  if (current === 'rollback_pending' || current === 'rolled_back') {
    if (ev.to === 'idle' && ev.event !== 'stalled') return 'rolled_back';
    return ev.to === 'failed' ? 'failed' : 'rollback_pending';
  }
  // Its state could not even be saved: it stays where it was on the device, and retries.
  if (ev.event === 'stalled') return 'stalled';
  if (ev.to === 'failed' && ev.retryAt && isStorageFailure(ev.reason)) return 'stalled';
  // A transient failure the agent will retry by itself is a wait on the network (or storage), not a failed install.
  if (ev.to === 'failed') return ev.retryAt ? 'waiting_network' : 'failed';
  if (ev.to === 'waiting_download' || ev.to === 'waiting_activation') return WAITING_STATES[ev.waiting?.kind ?? 'condition'];
  if (ev.to === 'idle') {
    if (ev.from === 'committing') return 'updated';
    // Back to idle through rolling_back: the self-test failed and the agent restored its old model.
    if (ev.from === 'rolling_back') return 'failed';
    return current;
  }
  return ev.to;
}

/** A failure of the device's own storage (its reason starts with the agent's code for it, e.g. on ENOSPC). */
export const isStorageFailure = (reason: string | undefined): boolean => (reason ?? '').startsWith('AGENT_STORAGE_FAILED');

/**
 * When the device's current stall began: the time of the first of the newest run of `stalled` entries of
 * its timeline, or null when its newest entry is not a stall. Also whether that stall was reported already.
 */
export function currentStall(
  timeline: readonly { at: string; state: RolloutDeviceState; detail?: unknown }[],
): { since: string; reported: boolean } | null {
  let since: string | null = null;
  let reported = false;
  for (let i = timeline.length - 1; i >= 0 && timeline[i]!.state === 'stalled'; i--) {
    since = timeline[i]!.at;
    if ((timeline[i]!.detail as { stallReported?: boolean } | undefined)?.stallReported) reported = true;
  }
  return since ? { since, reported } : null;
}

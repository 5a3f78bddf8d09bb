// The one transition table of the update flow [WIRE-4.1]: states report events, this table picks the next state.
import type { DeployState } from '@flotilla/firmware-bundler/wire';

/**
 * What a state reports when its step ends. `cancel`: the desired bundle changed before anything
 * was activated. `loop_guard`: the update was resumed after a restart more often than allowed.
 */
export type UpdateEvent = 'update' | 'success' | 'failure' | 'cancel' | 'loop_guard' | 'wait';

type Row = readonly [from: DeployState, event: UpdateEvent, to: DeployState];

/**
 * Every allowed transition, and only these. Before `activating` a failure leaves the old model
 * untouched (`failed` cleans up); from `activating` on, the slot pointer may have moved, so every
 * failure goes through `rolling_back`. `failed` records why and returns to `idle`. `wait` [WIRE-4.2]:
 * downloading waits for its conditions in `waiting_download`; a staged update waits for its window, the
 * app's lock or its conditions in `waiting_activation` (the old model serves); a waiting state that
 * reports `wait` again is waiting on something else now.
 */
// prettier-ignore
export const TRANSITIONS: readonly Row[] = [
  ['idle',         'update',     'downloading'],
  ['downloading',  'wait',       'waiting_download'],
  ['waiting_download', 'wait',   'waiting_download'],
  ['waiting_download', 'success', 'downloading'],
  ['waiting_download', 'failure', 'failed'],
  ['waiting_download', 'cancel', 'idle'],
  ['waiting_download', 'loop_guard', 'failed'],
  ['downloading',  'success',    'verifying'],
  ['downloading',  'failure',    'failed'],
  ['downloading',  'cancel',     'idle'],
  ['downloading',  'loop_guard', 'failed'],
  ['verifying',    'success',    'staging'],
  ['verifying',    'failure',    'failed'],
  ['verifying',    'cancel',     'idle'],
  ['verifying',    'loop_guard', 'failed'],
  ['staging',      'success',    'activating'],
  ['staging',      'failure',    'failed'],
  ['staging',      'cancel',     'idle'],
  ['staging',      'loop_guard', 'failed'],
  ['staging',      'wait',       'waiting_activation'],
  ['waiting_activation', 'wait', 'waiting_activation'],
  ['waiting_activation', 'success', 'activating'],
  ['waiting_activation', 'failure', 'failed'],
  ['waiting_activation', 'cancel', 'idle'],
  ['waiting_activation', 'loop_guard', 'failed'],
  ['activating',   'success',    'probing'],
  ['activating',   'failure',    'rolling_back'],
  ['activating',   'loop_guard', 'rolling_back'],
  ['probing',      'success',    'committing'],
  ['probing',      'failure',    'rolling_back'],
  ['probing',      'loop_guard', 'rolling_back'],
  ['committing',   'success',    'idle'],
  ['committing',   'failure',    'rolling_back'],
  ['committing',   'loop_guard', 'rolling_back'],
  ['rolling_back', 'success',    'failed'],
  ['rolling_back', 'failure',    'failed'],
  ['rolling_back', 'loop_guard', 'failed'],
  ['failed',       'success',    'idle'],
  ['failed',       'failure',    'idle'],
  ['failed',       'loop_guard', 'idle'],
];

const INDEX = new Map(TRANSITIONS.map(([from, event, to]) => [`${from}:${event}`, to]));

/** The state after `event` in `from`; throws when the table has no such row (a bug, never input). */
export function nextState(from: DeployState, event: UpdateEvent): DeployState {
  const to = INDEX.get(`${from}:${event}`);
  if (!to) throw new Error(`no transition from ${from} on ${event}`);
  return to;
}

/** Whether `event` is allowed in `state`. */
export function allows(state: DeployState, event: UpdateEvent): boolean {
  return INDEX.has(`${state}:${event}`);
}

/** States in which a changed desired bundle may cancel the update (nothing activated yet). */
export const CANCELLABLE: ReadonlySet<DeployState> = new Set([
  'waiting_download',
  'downloading',
  'verifying',
  'staging',
  'waiting_activation',
]);

/** States that wait on the device or the app rather than work: a restart in one is not a crash for the loop guard. */
export const WAITING: ReadonlySet<DeployState> = new Set(['waiting_download', 'waiting_activation']);

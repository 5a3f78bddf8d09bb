// Words for rollout things, shared by the rollout pages: targets, stages, gates and actions.
import type { RolloutAction } from '../api/rollouts.ts';
import type { Rollout } from '../api/types.ts';

type Target = Rollout['target'];

/** `tag=car group=eu` (the CLI's words), or "all devices". */
export function describeTarget(t: Target): string {
  if (t.all) return 'all devices';
  const ids = t.deviceIds ?? [];
  return [
    ...(t.tags ?? []).map((x) => `tag=${x}`),
    ...(t.groups ?? []).map((x) => `group=${x}`),
    ...ids.slice(0, 5).map((x) => `device=${x}`),
    ...(ids.length > 5 ? [`(+${ids.length - 5} devices)`] : []),
    ...Object.entries(t.attributes ?? {}).map(([k, v]) => `attr.${k}=${v}`),
  ].join(' ');
}

/** The preview route's `target` shorthand for a Target. */
export function targetShorthand(t: Target): string {
  if (t.all) return 'all';
  return [
    ...(t.tags ?? []).map((x) => `tag=${x}`),
    ...(t.groups ?? []).map((x) => `group=${x}`),
    ...(t.deviceIds ?? []).map((x) => `device=${x}`),
    ...Object.entries(t.attributes ?? {}).map(([k, v]) => `attr.${k}=${v}`),
  ].join(',');
}

export type GateName =
  'minReporting' | 'maxFailureRate' | 'maxErrorRate' | 'maxP95LatencyMs' | 'maxConfidenceDrop' | 'maxDriftScore' | 'maxDisagreement';

/** The server's default gates (server/src/rollouts/rollout-spec.ts), shown in the wizard; null: gate off. */
export const DEFAULT_GATES: Record<GateName, number | null> = {
  minReporting: 0.8,
  maxFailureRate: 0.05,
  maxErrorRate: 0.02,
  maxP95LatencyMs: null,
  maxConfidenceDrop: 0.05,
  maxDriftScore: 0.2,
  maxDisagreement: 0.1,
};

export const GATES: { name: GateName; label: string; unit: 'share' | 'ms' | 'psi'; help: string }[] = [
  {
    name: 'minReporting',
    label: 'Min. reporting',
    unit: 'share',
    help: "share of the stage's devices that must send telemetry before health is judged",
  },
  { name: 'maxFailureRate', label: 'Max. install failures', unit: 'share', help: 'devices whose install failed or rolled itself back' },
  { name: 'maxErrorRate', label: 'Max. inference errors', unit: 'share', help: 'errors per request on the new model' },
  { name: 'maxP95LatencyMs', label: 'Max. p95 latency', unit: 'ms', help: 'milliseconds, 95th percentile' },
  { name: 'maxConfidenceDrop', label: 'Max. confidence drop', unit: 'share', help: 'mean top-1 confidence against the reference' },
  { name: 'maxDriftScore', label: 'Max. input drift', unit: 'psi', help: "PSI against the bundle's reference bins" },
  { name: 'maxDisagreement', label: 'Max. disagreement', unit: 'share', help: 'shadow stages: answers that differ from the serving model' },
];

export const ACTIONS: Record<RolloutAction, { label: string; danger?: boolean; help: string }> = {
  start: { label: 'Start', help: 'Starts the first stage: its devices are told about the bundle.' },
  pause: { label: 'Pause', help: 'No more devices are told about the bundle. Devices already updating carry on; nothing is undone.' },
  resume: { label: 'Resume', help: 'The rollout carries on where it stopped.' },
  advance: { label: 'Advance', help: 'Ends the current stage now and starts the next one, without waiting for the bake or the gates.' },
  abort: { label: 'Abort', danger: true, help: 'Stops the rollout for good. Devices keep what they run now; nothing is rolled back.' },
  rollback: { label: 'Roll back', danger: true, help: 'Every device this rollout updated is told to return to the bundle it ran before.' },
};

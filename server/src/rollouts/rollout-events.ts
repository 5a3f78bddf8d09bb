// Rollout transitions as public events (docs/events.md): each event record a step writes becomes one
// `rollout.*` event, published after the step's write committed (in the step's order).
import type { EventType } from '../events/cloud-event.ts';
import type { EventPublisher } from '../events/event-publisher.ts';
import type { Rollout, RolloutEventRecord } from './rollout-types.ts';

/** Record kind → event type. A forced advance is a stage passing too; a gate failure pauses or aborts. */
const TYPES: Record<string, EventType> = {
  created: 'rollout.created',
  start: 'rollout.started',
  stage_passed: 'rollout.stage_passed',
  advance: 'rollout.stage_passed',
  await_approval: 'rollout.awaiting_approval',
  pause: 'rollout.paused',
  gate_failed: 'rollout.paused',
  resume: 'rollout.resumed',
  abort: 'rollout.aborted',
  gate_failed_abort: 'rollout.aborted',
  finish: 'rollout.finished',
  rollback: 'rollout.rolled_back',
  devices_superseded: 'rollout.devices_superseded',
  device_stalled: 'rollout.device_stalled',
};

/** Publishes `records` (one step's, in order); kinds without a public type are skipped. */
export async function publishRolloutEvents(
  events: EventPublisher | undefined,
  r: Rollout,
  records: readonly Omit<RolloutEventRecord, 'id'>[],
): Promise<void> {
  if (!events) return;
  for (const e of records) {
    const type = TYPES[e.kind];
    if (!type) continue;
    await events.publish(type, e.rolloutId, {
      rolloutId: e.rolloutId,
      model: r.model,
      bundleId: r.bundle.id,
      kind: e.kind,
      from: e.from,
      to: e.to,
      stage: e.stage,
      stages: r.stages.length,
      actor: e.actor,
      reason: e.reason,
      detail: e.detail ?? null,
      at: e.at,
    });
  }
}

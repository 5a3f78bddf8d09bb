// Response schemas of rollouts: the rollout, its status view, devices, timelines, events and previews.
import { z } from '@hono/zod-openapi';
import { BundleRef } from '@flotilla/firmware-bundler/wire';
import { ROLLOUT_DEVICE_STATES } from '../../rollouts/device-state.ts';
import { ROLLOUT_STATES, STAGE_STATES } from '../../rollouts/rollout-machine.ts';
import { Policy, Stage } from '../../rollouts/rollout-spec.ts';
import { Target } from '../../rollouts/target.ts';

const DeviceState = z.enum(ROLLOUT_DEVICE_STATES);
const Counts = z.record(z.string(), z.number()).openapi({ description: 'Devices by rollout device state' });
const num = z.number().nullable();
const evidence = z.number().optional().openapi({ description: 'Evidence count (absent in verdicts recorded before it was counted)' });
const StageStats = z.object({
  devices: z.number(),
  failed: z.number(),
  reporting: z.number(),
  requests: evidence,
  errors: evidence,
  clientErrors: evidence.openapi({ description: 'Requests refused as bad input: shown, never judged' }),
  driftSamples: evidence,
  errorRate: num,
  p95LatencyMs: num,
  confidenceDrop: num,
  driftScore: num,
  disagreement: num,
});
const Verdict = z.object({
  pass: z.boolean(),
  state: z
    .enum(['pass', 'fail', 'waiting'])
    .optional()
    .openapi({ description: 'pass; fail (a gate fails); waiting (none fails, some lack evidence)' }),
  failures: z.array(z.object({ gate: z.string(), value: z.number(), limit: z.number() })),
  waiting: z
    .array(z.object({ gate: z.string(), have: z.number(), need: z.number(), unit: z.string() }))
    .optional()
    .openapi({ description: 'Gates short of their minimum evidence: have of need units' }),
  insufficient: z.literal(true).optional().openapi({ description: 'Too few devices reporting, or a gated metric not measured yet: wait' }),
  missing: z.array(z.string()).optional(),
  at: z.string(),
  stats: StageStats,
});

export const Rollout = z
  .object({
    id: z.string(),
    state: z.enum(ROLLOUT_STATES),
    model: z.string(),
    bundle: BundleRef,
    target: Target,
    stages: z.array(Stage),
    policy: Policy,
    current: z.number(),
    reason: z.string(),
    createdBy: z.string(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Rollout');

const StageStatus = z.object({
  index: z.number(),
  percent: z.number().nullable(),
  count: z.number().nullable(),
  shadow: z.boolean(),
  bakeSec: z.number(),
  state: z.enum(STAGE_STATES),
  activatedAt: z.string().nullable(),
  bakeStartedAt: z.string().nullable(),
  bakeEndsAt: z.string().nullable(),
  endedAt: z.string().nullable(),
  devices: z.number(),
  counts: Counts,
  verdict: Verdict.nullable(),
  timeoutSec: z.number(),
  gates: z.unknown(),
  waiting: z.object({ window: z.number(), lock: z.number(), condition: z.number(), network: z.number() }).openapi({
    description:
      "Devices of the stage that wait: on a maintenance window, the app's update lock, a device condition, or a retry after a transient failure",
  }),
});

export const RolloutStatus = Rollout.omit({ stages: true })
  .extend({
    counts: Counts,
    devices: z.number(),
    stages: z.array(StageStatus),
    actions: z.array(z.string()).openapi({ description: 'Operator actions the state allows now' }),
  })
  .openapi('RolloutStatus');

export const RolloutRetryResult = RolloutStatus.extend({
  retried: z.number().openapi({ description: 'Failed devices sent the desired state again' }),
}).openapi('RolloutRetryResult');

export const RolloutDevice = z.object({
  rolloutId: z.string(),
  deviceId: z.string(),
  stage: z.number().nullable(),
  hash: z.number(),
  state: DeviceState,
  previousBundleId: z.string().nullable(),
  notifiedAt: z.string().nullable(),
  updatedAt: z.string(),
});

export const RolloutDeviceDetail = RolloutDevice.extend({
  update: z
    .object({
      bundleId: z.string(),
      attempt: z.number(),
      waiting: z.object({ kind: z.string(), reason: z.string(), since: z.string(), until: z.string().optional() }).nullable(),
      progress: z.object({ bytes: z.number(), totalBytes: z.number(), chunks: z.number(), totalChunks: z.number() }).nullable(),
    })
    .nullable()
    .openapi({ description: "The device's latest report of this rollout's update in flight: what it waits on and its download progress" }),
  timeline: z.array(z.object({ at: z.string(), kind: z.string(), state: DeviceState, detail: z.unknown().optional() })),
});

export const RolloutEvent = z.object({
  id: z.number(),
  rolloutId: z.string(),
  at: z.string(),
  actor: z.string(),
  kind: z.string(),
  from: z.enum(ROLLOUT_STATES).nullable(),
  to: z.enum(ROLLOUT_STATES).nullable(),
  stage: z.number().nullable(),
  reason: z.string(),
  detail: z.unknown(),
});

export const TargetPreview = z.object({ matching: z.number(), online: z.number(), stageSizes: z.array(z.number()), held: z.number() });

export const RolloutPreview = z.object({
  rolloutId: z.string(),
  matching: z.number(),
  online: z.number(),
  inRollout: z.number(),
  notYetIncluded: z.number(),
  includeLateJoiners: z.boolean(),
});

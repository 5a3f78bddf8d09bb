// What a rollout request may say, with every default in one place, and the CLI's `--stages 10,50,100` shorthand.
import { z } from 'zod';
import { RolloutError } from './rollout-error.ts';
import { Target } from './target.ts';
import { RolloutSchedule, RolloutUpdatePolicy } from './update-control.ts';

const fraction = z.number().min(0).max(1);
const DAY_SEC = 86_400;

/**
 * Health gates of one stage, measured on that stage's devices only. A null limit turns that gate off.
 * Defaults, and why:
 * - `minReporting` 0.8: 80% of the stage's notified devices must report telemetry before anything is
 *   judged; fewer means "wait" (not "fail") until the stage's `timeoutSec`. Offline devices are normal.
 * - `maxFailureRate` 0.05: at most 5% of the stage's devices may fail to install (or roll themselves back).
 * - `maxErrorRate` 0.02: inference errors per request on the new model.
 * - `maxP95LatencyMs` null: latency depends on the model and hardware, so there is no universal limit.
 * - `maxConfidenceDrop` 0.05: mean top-1 confidence may fall at most 5 points against the reference.
 * - `maxDriftScore` 0.2: PSI above 0.2 is the usual "significant shift" rule of thumb.
 * - `maxDisagreement` 0.1 (shadow stages only): a better model disagrees with the old one on a few
 *   percent of inputs; one in ten means it behaves differently, which a human should look at.
 * - `minRequests` 50: the evidence the error rate, latency, confidence and disagreement gates need
 *   before they judge (one bad call of four is not a 25% error rate); fewer means "wait".
 * - `minDriftSamples` 200: rows the drift gate needs; PSI of a handful of inputs is noise.
 * A gate short of its evidence waits until the stage's `timeoutSec`; then the stage pauses with
 * "insufficient evidence" (never "gate failed"), and `resume` gives it another `timeoutSec`.
 */
export const Gates = z.object({
  minReporting: fraction.default(0.8),
  maxFailureRate: fraction.default(0.05),
  maxErrorRate: fraction.nullable().default(0.02),
  maxP95LatencyMs: z.number().positive().nullable().default(null),
  maxConfidenceDrop: fraction.nullable().default(0.05),
  maxDriftScore: z.number().min(0).nullable().default(0.2),
  maxDisagreement: fraction.nullable().default(0.1),
  minRequests: z.number().int().min(0).max(1_000_000).default(50),
  minDriftSamples: z.number().int().min(0).max(1_000_000).default(200),
});
export type Gates = z.infer<typeof Gates>;

/** The gates a stage gets when it names none (see `Gates`). */
export const DEFAULT_GATES: Gates = Gates.parse({});

/**
 * One stage. Size is `percent` (CUMULATIVE share of the target covered once this stage is active:
 * `10, 50, 100` means 10% canary, then 40% more, then the rest) or `count` (this many more devices).
 * `bakeSec` (default 600) runs from the moment the stage's last device was notified; gates must hold
 * when it ends. `timeoutSec` (default 3600) is how long after the bake the stage may wait for enough
 * devices to report before that counts as a gate failure. A `shadow` stage runs the new model beside
 * the serving one without answering the app; when it passes, its devices are promoted to serve it.
 */
export const Stage = z
  .object({
    percent: z.number().gt(0).max(100).optional(),
    count: z.number().int().positive().max(10_000_000).optional(),
    bakeSec: z
      .number()
      .int()
      .min(0)
      .max(30 * DAY_SEC)
      .default(600),
    timeoutSec: z
      .number()
      .int()
      .min(0)
      .max(30 * DAY_SEC)
      .default(3600),
    shadow: z.boolean().default(false),
    gates: Gates.prefault({}),
  })
  .refine((s) => (s.percent === undefined) !== (s.count === undefined), { message: 'a stage has exactly one of percent or count' });
export type Stage = z.infer<typeof Stage>;

/**
 * Defaults: advance `auto`; `onGateFail` `pause` (a human decides; nothing on the devices changes);
 * late joiners included; 1000 devices per minute (about 17 new downloads a second for the broker and
 * chunk server) with no ramp. `rampFactor` multiplies the per-minute budget every minute of a stage.
 * `schedule` and `update` (update control, docs/update-control.md) are optional: without them devices
 * are told at once and activate as soon as the bundle is staged.
 */
export const Policy = z.object({
  advance: z.enum(['auto', 'approval']).default('auto'),
  onGateFail: z.enum(['pause', 'abort']).default('pause'),
  includeLateJoiners: z.boolean().default(true),
  rate: z
    .object({
      devicesPerMinute: z.number().positive().max(1_000_000).default(1000),
      rampFactor: z.number().min(1).max(10).default(1),
    })
    .prefault({}),
  schedule: RolloutSchedule.optional(),
  update: RolloutUpdatePolicy.optional(),
});
export type Policy = z.infer<typeof Policy>;

/**
 * A rollout request: exactly one of `bundle` (a bundle id) or `model` (`NAME@VERSION`, resolved to
 * that version's newest bundle). `supersede` takes devices already in another active rollout of the
 * same model away from it (otherwise such a request is refused). `draft` creates without starting.
 */
export const RolloutRequest = z
  .object({
    bundle: z.string().min(8).max(64).optional(),
    model: z.string().min(1).max(200).optional(),
    target: Target,
    stages: z.array(Stage).min(1).max(20),
    policy: Policy.prefault({}),
    supersede: z.boolean().default(false),
    draft: z.boolean().default(false),
    reason: z.string().max(500).default(''),
  })
  .superRefine((r, ctx) => {
    if ((r.bundle === undefined) === (r.model === undefined))
      ctx.addIssue({ code: 'custom', message: 'name exactly one of bundle or model', path: ['bundle'] });
    let last = 0;
    r.stages.forEach((s, i) => {
      if (s.percent === undefined) return;
      if (s.percent <= last)
        ctx.addIssue({
          code: 'custom',
          message: `stage percents are cumulative and must grow (${s.percent} after ${last})`,
          path: ['stages', i, 'percent'],
        });
      last = s.percent;
    });
  });
export type RolloutRequestInput = z.input<typeof RolloutRequest>;
export type RolloutSpec = z.output<typeof RolloutRequest>;

/** Validates a request and fills every default; throws INVALID_ROLLOUT naming each wrong field. */
export function parseRolloutRequest(input: unknown): RolloutSpec {
  const r = RolloutRequest.safeParse(input);
  if (r.success) return r.data;
  const msg = r.error.issues.map((i) => `${i.path.map(String).join('.') || '(request)'}: ${i.message}`).join('; ');
  throw new RolloutError(
    'INVALID_ROLLOUT',
    msg,
    r.error.issues.map((i) => ({ path: i.path.map(String), message: i.message })),
  );
}

/**
 * Parses `--stages`: comma-separated `N` or `N%` (cumulative percent), `Nd` (N more devices), each
 * optionally prefixed `shadow:`. `shadow:5,10,50,100` is a 5% shadow stage, then 10%, 50%, all.
 * Every stage gets `bakeSec` and the default gates.
 */
export function parseStagesShorthand(text: string, bakeSec = 600): z.input<typeof Stage>[] {
  const parts = text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  if (parts.length === 0) throw new RolloutError('INVALID_ROLLOUT', 'no stages given (example: --stages 10,50,100)');
  return parts.map((raw) => {
    const shadow = raw.startsWith('shadow:');
    const p = shadow ? raw.slice(7) : raw;
    const m = /^(\d+(?:\.\d+)?)(%|d)?$/.exec(p);
    if (!m) throw new RolloutError('INVALID_ROLLOUT', `stage '${raw}' is not N (percent), N% or Nd (devices)`);
    const n = Number(m[1]);
    const size = m[2] === 'd' ? { count: n } : { percent: n };
    return { ...size, bakeSec, ...(shadow ? { shadow: true } : {}) };
  });
}

/** `90`, `90s`, `10m`, `2h`, `1d` → seconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+)(s|m|h|d)?$/.exec(text.trim());
  if (!m) throw new RolloutError('INVALID_ROLLOUT', `duration '${text}' is not N, Ns, Nm, Nh or Nd`);
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: DAY_SEC }[(m[2] ?? 's') as 's'];
}

// The rollout wizard's draft: what the operator has chosen so far, and the request it becomes.
import type { RolloutRequestInput } from '../api/types.ts';
import { DEFAULT_GATES, type GateName } from './rollout-text.ts';

export interface StageDraft {
  /** Cumulative share of the target, 1-100. */
  percent: number;
  bakeMin: number;
  shadow: boolean;
  /** null: the server's default gates. */
  gates: Record<GateName, number | null> | null;
}

export interface TargetDraft {
  kind: 'tags' | 'groups' | 'devices' | 'all';
  /** Comma- or space-separated words for tags, groups or device ids. */
  words: string;
  /** `key=value` per line or comma. */
  attributes: string;
}

export interface WizardDraft {
  bundle: string | null;
  target: TargetDraft;
  stages: StageDraft[];
  advance: 'auto' | 'approval';
  onGateFail: 'pause' | 'abort';
  devicesPerMinute: number;
  /** Take devices over from other active rollouts of the same model. */
  supersede: boolean;
  reason: string;
}

export const stage = (percent: number, bakeMin = 10): StageDraft => ({ percent, bakeMin, shadow: false, gates: null });

export const PRESETS: { label: string; stages: number[] }[] = [
  { label: 'Canary 10% → 50% → 100%', stages: [10, 50, 100] },
  { label: '1% → 10% → 100%', stages: [1, 10, 100] },
  { label: 'All at once', stages: [100] },
];

export const initialDraft = (bundle: string | null): WizardDraft => ({
  bundle,
  target: { kind: 'tags', words: '', attributes: '' },
  stages: PRESETS[0]!.stages.map((p) => stage(p)),
  advance: 'auto',
  onGateFail: 'pause',
  devicesPerMinute: 1000,
  supersede: false,
  reason: '',
});

const words = (s: string) =>
  s
    .split(/[\s,]+/)
    .map((w) => w.trim())
    .filter(Boolean);

export function targetOf(t: TargetDraft): RolloutRequestInput['target'] {
  const attributes = Object.fromEntries(
    t.attributes
      .split(/[\n,]+/)
      .map((l) => l.split('=').map((x) => x.trim()))
      .filter((kv) => kv.length === 2 && kv[0] && kv[1]) as [string, string][],
  );
  const extra = Object.keys(attributes).length ? { attributes } : {};
  switch (t.kind) {
    case 'all':
      return { all: true };
    case 'tags':
      return { tags: words(t.words), ...extra };
    case 'groups':
      return { groups: words(t.words), ...extra };
    case 'devices':
      return { deviceIds: words(t.words), ...extra };
  }
}

/** A target names something (an empty one would be refused: "everything" must be said as "all"). */
export const targetReady = (t: TargetDraft) => t.kind === 'all' || words(t.words).length > 0 || /=/.test(t.attributes);

/** Problems with the stages, in words; empty when they are fine. */
export function stageProblems(stages: StageDraft[]): string[] {
  const out: string[] = [];
  if (stages.length === 0) out.push('Add at least one stage.');
  let last = 0;
  stages.forEach((s, i) => {
    if (!(s.percent > last && s.percent <= 100))
      out.push(`Stage ${i + 1}: the share is cumulative, so it must be above ${last}% and at most 100%.`);
    if (!(s.bakeMin >= 0)) out.push(`Stage ${i + 1}: the bake time cannot be negative.`);
    last = Math.max(last, s.percent);
  });
  return out;
}

/** Install gates cannot be switched off; an empty field there means the server's default. */
const ALWAYS_ON: readonly GateName[] = ['minReporting', 'maxFailureRate'];

function gatesOf(g: Record<GateName, number | null>) {
  return Object.fromEntries(Object.entries(g).filter(([k, v]) => v !== null || !ALWAYS_ON.includes(k as GateName))) as NonNullable<
    RolloutRequestInput['stages'][number]['gates']
  >;
}

export function requestOf(d: WizardDraft): RolloutRequestInput {
  return {
    bundle: d.bundle ?? undefined,
    target: targetOf(d.target),
    stages: d.stages.map((s) => ({
      percent: s.percent,
      bakeSec: Math.round(s.bakeMin * 60),
      shadow: s.shadow,
      ...(s.gates ? { gates: gatesOf(s.gates) } : {}),
    })),
    policy: { advance: d.advance, onGateFail: d.onGateFail, rate: { devicesPerMinute: d.devicesPerMinute } },
    supersede: d.supersede,
    reason: d.reason,
  };
}

export { DEFAULT_GATES };

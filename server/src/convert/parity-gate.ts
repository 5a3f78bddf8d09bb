// The parity gate: may an int8 model be bundled in place of its float parent? An operator override is recorded.
import type { ParityReport } from './evaluate-parity.ts';

/** Gate thresholds. */
export interface GateThresholds {
  /** Largest accuracy drop allowed, in percentage points; default 0.5. */
  maxAccuracyDrop?: number;
  /** Smallest top-1 agreement allowed for each classifier output, 0..1; default 0.99. */
  minTop1Agreement?: number;
  /** Largest relative L2 error allowed for each non-classifier output; default 0.05. */
  maxRelativeL2?: number;
  /** Smallest cosine similarity allowed for each non-classifier output; default 0.99. */
  minCosine?: number;
}

/** An operator's decision to bundle a model that failed the gate. */
export interface GateOverride {
  /** Who overrode (user or token name). */
  by: string;
  reason: string;
  /** ISO time; defaults to now. */
  at?: string;
}

export interface GateDecision {
  /** Whether the figures meet the thresholds. */
  passed: boolean;
  /** Whether bundling is allowed: passed, or failed and overridden. */
  allowed: boolean;
  /** One line per threshold missed. */
  failures: string[];
  /** Checks that could not be made (e.g. accuracy without labels). */
  skipped: string[];
  thresholds: Required<GateThresholds>;
  /** Present when an override was given. */
  override?: Required<GateOverride>;
}

/** Applies the gate to a parity report; with `override`, a failed gate still allows bundling and says who decided. */
export function parityGate(report: ParityReport, thresholds: GateThresholds = {}, override?: GateOverride): GateDecision {
  const t = {
    maxAccuracyDrop: thresholds.maxAccuracyDrop ?? 0.5,
    minTop1Agreement: thresholds.minTop1Agreement ?? 0.99,
    maxRelativeL2: thresholds.maxRelativeL2 ?? 0.05,
    minCosine: thresholds.minCosine ?? 0.99,
  };
  const failures: string[] = [];
  const skipped: string[] = [];
  if (report.accuracyDropPoints === null) skipped.push('accuracy drop (no labels)');
  else if (report.accuracyDropPoints > t.maxAccuracyDrop) {
    failures.push(`accuracy drops ${report.accuracyDropPoints.toFixed(2)} points (limit ${t.maxAccuracyDrop})`);
  }
  // Reports stored before per-output figures existed are judged on their first output's top-1 agreement.
  const outputs = report.outputs ?? [
    {
      name: report.outputName,
      kind: 'classifier' as const,
      top1Agreement: report.top1Agreement,
      relativeL2: 0,
      cosine: 1,
      maxAbsDiff: report.maxAbsDiff,
      meanAbsDiff: report.meanAbsDiff,
    },
  ];
  const named = outputs.length > 1;
  for (const o of outputs) {
    const where = named ? ` on output '${o.name}'` : '';
    if (o.kind === 'classifier') {
      if (o.top1Agreement! < t.minTop1Agreement)
        failures.push(`top-1 agreement ${(o.top1Agreement! * 100).toFixed(2)}%${where} is below ${(t.minTop1Agreement * 100).toFixed(2)}%`);
      continue;
    }
    // A lone [N, 1] score or a feature map has no classes to agree on: its values must match instead.
    if (!(o.relativeL2 <= t.maxRelativeL2))
      failures.push(`relative L2 error ${o.relativeL2.toFixed(4)}${where} is above ${t.maxRelativeL2}`);
    if (!(o.cosine >= t.minCosine)) failures.push(`cosine similarity ${o.cosine.toFixed(4)}${where} is below ${t.minCosine}`);
  }
  // Older stored reports predate the check; they are judged on what they measured.
  const unsafe = report.kernelSafety?.outside ?? [];
  if (unsafe.length > 0) {
    const first = unsafe[0]!;
    failures.push(
      `${unsafe.length} int8 tensor(s) hold values outside [-64, 63] (${first.name}: ${first.min}..${first.max}); onnxruntime's int8 kernels saturate on them on x86 CPUs without VNNI, so devices with such CPUs would compute something else than this report measured — quantize again with Flotilla's quantizer (7-bit weights)`,
    );
  }
  const passed = failures.length === 0;
  return {
    passed,
    allowed: passed || override !== undefined,
    failures,
    skipped,
    thresholds: t,
    ...(override ? { override: { by: override.by, reason: override.reason, at: override.at ?? new Date().toISOString() } } : {}),
  };
}

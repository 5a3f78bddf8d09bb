// Health of a set of devices on one model since a time (a rollout stage): what rollout gates are judged on.
import { psi, sum } from './drift-metrics.ts';
import { histogramMean, histogramQuantile } from './histogram.ts';
import type { ModelReference } from './model-reference.ts';
import { addCounts, emptyCounts, type Rollup } from './rollup.ts';

/** Field-compatible with the rollout engine's `StageHealth` (null: not measured yet). */
export interface DeviceSetHealth {
  /** Devices with at least one window (shadow: shadow requests) in the rollups given. */
  reporting: number;
  /** Model calls (shadow: shadow runs), the evidence behind the rates below. */
  requests: number;
  /** Of those, the calls that failed. */
  errors: number;
  /** Requests refused as bad input before the model ran: counted, never in the error rate. */
  clientErrors: number;
  /** Rows counted into the drift features (the most of any reference feature): the evidence behind `driftScore`. */
  driftSamples: number;
  /** Errors per request, 0-1 (shadow: the shadow model's). */
  errorRate: number | null;
  /** From the merged latency histograms (shadow: request-weighted mean of the windows' shadow p95). */
  p95LatencyMs: number | null;
  /** Baseline mean top-1 confidence minus the devices' (positive: less confident). */
  confidenceDrop: number | null;
  /** Largest PSI of any reference feature, on the devices' pooled counts. */
  driftScore: number | null;
  /** Shadow only: share of shadow requests whose answer differed from the serving model's. */
  disagreement: number | null;
}

/**
 * Sums the devices' hourly rollups and judges them. `baselineConfidence` is the mean top-1 confidence to
 * compare with (e.g. the reference's, or the previous model's on the same devices); without it,
 * confidenceDrop is null.
 */
export function deviceSetHealth(
  rollups: readonly Rollup[],
  o: { reference?: ModelReference; baselineConfidence?: number | null; shadow: boolean; epsilon?: number },
): DeviceSetHealth {
  const reporting = new Set<string>();
  const total = emptyCounts();
  for (const r of rollups) {
    if (o.shadow ? r.shadow.requests > 0 : r.windows > 0) reporting.add(r.id);
    addCounts(total, r);
  }
  if (o.shadow) {
    const n = total.shadow.requests;
    return {
      reporting: reporting.size,
      requests: n,
      errors: total.shadow.errors,
      clientErrors: total.clientErrors ?? 0,
      driftSamples: 0,
      errorRate: n > 0 ? total.shadow.errors / n : null,
      p95LatencyMs: n > 0 ? total.shadow.latencyP95MsWeighted / n : null,
      confidenceDrop: null,
      driftScore: null,
      disagreement: n > 0 ? 1 - total.shadow.agreements / n : null,
    };
  }
  const mean = total.confidence ? (histogramMean(total.confidence)?.mean ?? null) : null;
  let drift: number | null = null;
  let driftSamples = 0;
  for (const f of o.reference?.features ?? []) {
    const counts = total.features[f.name];
    if (!counts || counts.length !== f.frequencies.length || sum(counts) === 0) continue;
    drift = Math.max(drift ?? 0, psi(counts, f.frequencies, o.epsilon));
    driftSamples = Math.max(driftSamples, sum(counts));
  }
  return {
    reporting: reporting.size,
    requests: total.requests,
    errors: total.errors,
    clientErrors: total.clientErrors ?? 0,
    driftSamples,
    errorRate: total.requests > 0 ? total.errors / total.requests : null,
    p95LatencyMs: total.latency ? histogramQuantile(total.latency, 0.95) : null,
    confidenceDrop: mean !== null && o.baselineConfidence != null ? o.baselineConfidence - mean : null,
    driftScore: drift,
    disagreement: null,
  };
}

// Caps what one telemetry window can add to fleet sums: no device answers more predictions than its window
// length allows at the fleet's top prediction rate, so one device cannot outweigh the fleet.
import type { TelemetryWindow } from '@flotilla/firmware-bundler/wire';

/** Predictions per second one device is credited with at most. Default of {@link clipWindow}. */
export const MAX_PREDICTIONS_PER_SEC = 1000;
/** Longest window credited, in seconds (the longest a telemetry policy allows [WIRE-2.2]). */
const MAX_WINDOW_SEC = 86_400;

/**
 * `w` with every count scaled down, in proportion, when it claims more requests than `ratePerSec` over
 * its own length (at most a day, at least a second) permits; the window itself when it does not.
 * `creditedMs`: the part of its length not credited before (window-coverage.ts), judged exactly (no
 * one-second floor: many short windows must not add up to more than their time allows).
 * Scaling keeps errors ≤ requests, correct ≤ labelled and the shape of every histogram.
 */
export function clipWindow(w: TelemetryWindow, ratePerSec = MAX_PREDICTIONS_PER_SEC, creditedMs?: number): TelemetryWindow {
  const cap =
    creditedMs === undefined
      ? Math.ceil(Math.min(MAX_WINDOW_SEC, Math.max(1, (Date.parse(w.end) - Date.parse(w.start)) / 1000 || 0)) * ratePerSec)
      : Math.floor((Math.min(MAX_WINDOW_SEC * 1000, Math.max(0, creditedMs)) * ratePerSec) / 1000 + 1e-9);
  const most = Math.max(w.requests, w.feedback.labelled, w.shadow?.requests ?? 0);
  if (most <= cap) return w;
  const f = cap / most;
  // The epsilon keeps a count that scales to a whole number (the largest one scales to `cap`) from rounding down past it.
  const n = (x: number) => Math.floor(x * f + 1e-9);
  const all = (xs: number[]) => xs.map(n);
  const hist = (h: { edges: number[]; counts: number[] }) => ({ edges: h.edges, counts: all(h.counts) });
  const bc = w.feedback.byClass;
  return {
    ...w,
    requests: n(w.requests),
    errors: n(w.errors),
    predictions: all(w.predictions),
    latencyMs: { ...w.latencyMs, hist: hist(w.latencyMs.hist) },
    confidence: hist(w.confidence),
    features: Object.fromEntries(Object.entries(w.features).map(([k, v]) => [k, all(v)])),
    feedback: {
      labelled: n(w.feedback.labelled),
      correct: n(w.feedback.correct),
      ...(bc ? { byClass: { labelled: all(bc.labelled), correct: all(bc.correct) } } : {}),
    },
    shadow: w.shadow
      ? { ...w.shadow, requests: n(w.shadow.requests), errors: n(w.shadow.errors), agreements: n(w.shadow.agreements) }
      : null,
  };
}

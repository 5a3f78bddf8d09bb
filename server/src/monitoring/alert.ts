// The drift alert record: which cohort and model, which features, how much, since when.

/** Drift level of one detection window: `warn` at PSI ≥ psiWarn, `alert` at PSI ≥ psiAlert, both only when significant. */
export type DriftLevel = 'ok' | 'warn' | 'alert';

/** One stream (input feature, `@prediction` or `@confidence`) in an alert. */
export interface AlertFeature {
  name: string;
  /** Latest window's PSI against the reference or baseline. */
  psi: number;
  /** Latest window's Jensen-Shannon distance (base 2, 0-1). */
  js: number;
  /** Latest window's χ² p-value (before the false-discovery adjustment). */
  pValue: number;
  level: DriftLevel;
  /** Largest PSI seen while in this alert. */
  peakPsi: number;
  /** Start of the first breaching window of this feature's run (ISO 8601, device time). */
  since: string;
  /** False once the feature has been clean for `clearAfter` windows. */
  active: boolean;
}

export type AlertSeverity = 'warning' | 'critical';
export type AlertState = 'open' | 'resolved';

export interface Alert {
  id: string;
  cohort: string;
  /** `name@version`. */
  model: string;
  features: AlertFeature[];
  /** `critical` once any feature reached psiAlert; never lowered within one alert. */
  severity: AlertSeverity;
  /** Start of the earliest breaching window among the features (ISO 8601, device time). */
  since: string;
  /** Detection windows evaluated since `since`, for the longest-running feature. */
  windows: number;
  state: AlertState;
  openedAt: string;
  updatedAt: string;
  resolvedAt: string | null;
  /** `detector` when the drift cleared, or the id of the operator who resolved it. */
  resolvedBy: string | null;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
}

/** What happened to an alert: only `raised`, `escalated` and `resolved` call webhooks. */
export type AlertChangeType = 'raised' | 'updated' | 'escalated' | 'resolved' | 'acknowledged';

export interface AlertChange {
  type: AlertChangeType;
  alert: Alert;
}

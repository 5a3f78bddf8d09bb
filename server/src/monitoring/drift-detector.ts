// Drift detection across a fleet: streams per (cohort, model, feature), family-wide false-discovery control,
// hysteresis, and one alert per (cohort, model) naming the features that moved.
import { randomUUID } from 'node:crypto';
import type { Alert, AlertChange, AlertFeature, DriftLevel } from './alert.ts';
import { resolveDriftConfig, type DriftConfig } from './drift-config.ts';
import { DriftStream, type WindowVerdict } from './drift-stream.ts';
import { benjaminiHochberg } from './false-discovery.ts';
import type { FeatureProfile } from '@flotilla/firmware-bundler';
import { validateReference, type ModelReference } from './model-reference.ts';

/** Stream names for the output distributions; input feature names may not start with '@'. */
export const PREDICTION_STREAM = '@prediction';
export const CONFIDENCE_STREAM = '@confidence';

/** One device window's counts as one cohort sees them. Times in ms since the epoch. */
export interface DetectorWindow {
  cohort: string;
  model: string;
  start: number;
  end: number;
  /** Feature name → counts on the reference bins. */
  features: Record<string, readonly number[]>;
  predictions?: readonly number[] | null;
  confidence?: { edges: readonly number[]; counts: readonly number[] } | null;
}

/** Why (part of) a window did not reach a detector. */
export type DriftIssueReason = 'no_reference' | 'unknown_feature' | 'bin_count_mismatch' | 'edges_mismatch';

export interface DriftIssue {
  stream: string;
  reason: DriftIssueReason;
}

/** Live state of one stream, for the drift API. */
export interface StreamStatus {
  cohort: string;
  model: string;
  stream: string;
  /** `reference` (from the bundle), `learning` (baseline not complete yet) or `baseline` (learned). */
  against: 'reference' | 'learning' | 'baseline';
  psi: number | null;
  js: number | null;
  pValue: number | null;
  level: DriftLevel | null;
  alerting: boolean;
  windowsTested: number;
  /** Observations pooled toward the next detection window. */
  pending: number;
  /** Start of the current breaching run (ISO), or null. */
  since: string | null;
  lastWindowEnd: string | null;
}

interface Group {
  cohort: string;
  model: string;
  streams: DriftStream[];
  byName: Map<string, DriftStream>;
  alert: Alert | null;
}

const iso = (ms: number) => new Date(ms).toISOString();
const sep = '\u0000';
/** Streams that received data within this long count in the false-discovery family, ms (24 h). */
const FAMILY_ACTIVE_MS = 24 * 3_600_000;
/** Groups without data for this long and without an open alert are forgotten, ms (7 days). */
const FORGET_AFTER_MS = 7 * 24 * 3_600_000;
/** How often the family size is recounted and idle groups swept, ms. */
const SWEEP_EVERY_MS = 60_000;

export class DriftDetector {
  readonly config: DriftConfig;
  private readonly refs = new Map<string, { ref: ModelReference; features: Map<string, FeatureProfile> }>();
  /** Streams with data in the last FAMILY_ACTIVE_MS, recounted every SWEEP_EVERY_MS, and those created since. */
  private activeStreams = 0;
  private createdSinceSweep = 0;
  private lastSweep = -Infinity;
  private readonly groups = new Map<string, Group>();
  private closed: { v: WindowVerdict; g: Group }[] = [];

  /**
   * @param config overrides of DEFAULT_DRIFT_CONFIG
   * @param newId alert id factory (default random UUIDs)
   * @param now clock for alert bookkeeping times
   */
  constructor(
    config: Partial<DriftConfig> = {},
    private readonly newId: () => string = randomUUID,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.config = resolveDriftConfig(config);
  }

  /** Registers (or replaces) the reference of model `key`; streams of that model restart their pooling. */
  setReference(key: string, ref: ModelReference): void {
    validateReference(ref);
    this.refs.set(key, { ref, features: new Map(ref.features.map((f) => [f.name, f])) });
    for (const g of this.groups.values()) {
      if (g.model !== key) continue;
      for (const s of g.streams) s.setReference(this.frequenciesFor(ref, s.name, g.cohort));
    }
  }

  reference(key: string): ModelReference | undefined {
    return this.refs.get(key)?.ref;
  }

  /** A stream's expected frequencies: its cohort's own profile of the feature when the reference has one. */
  private frequenciesFor(ref: ModelReference, stream: string, cohort: string): number[] | null {
    if (stream === PREDICTION_STREAM) return ref.predictions ?? null;
    if (stream === CONFIDENCE_STREAM) return ref.confidence?.frequencies ?? null;
    return (
      ref.cohorts?.[cohort]?.features.find((f) => f.name === stream)?.frequencies ??
      ref.features.find((f) => f.name === stream)?.frequencies ??
      null
    );
  }

  private group(cohort: string, model: string): Group {
    const key = cohort + sep + model;
    let g = this.groups.get(key);
    if (!g) this.groups.set(key, (g = { cohort, model, streams: [], byName: new Map(), alert: null }));
    return g;
  }

  private stream(g: Group, name: string, frequencies: readonly number[] | null): DriftStream {
    let s = g.byName.get(name);
    if (!s) {
      s = new DriftStream(g.cohort, g.model, name, frequencies, this.config);
      g.byName.set(name, s);
      g.streams.push(s);
      this.createdSinceSweep++;
    }
    return s;
  }

  /**
   * Pools one window into its streams; detection windows that fill up are scored and wait for `evaluate`.
   * Returns what could not be used, and why (never throws on mismatched counts).
   */
  observe(w: DetectorWindow): DriftIssue[] {
    const issues: DriftIssue[] = [];
    const now = this.now().getTime();
    const entry = this.refs.get(w.model);
    const ref = entry?.ref;
    const g = this.group(w.cohort, w.model);
    const feed = (name: string, frequencies: readonly number[] | null, counts: readonly number[], key?: string) => {
      const stream = this.stream(g, name, frequencies);
      stream.lastActivity = now;
      const r = stream.add(counts, w.start, w.end, key);
      if (r === 'bin_count_mismatch') issues.push({ stream: name, reason: r });
      else if (r && r !== 'learning_baseline') this.closed.push({ v: r, g });
    };
    for (const name of Object.keys(w.features)) {
      const profile = entry?.features.get(name);
      if (!profile) issues.push({ stream: name, reason: ref ? 'unknown_feature' : 'no_reference' });
      else feed(name, ref!.cohorts?.[w.cohort] ? this.frequenciesFor(ref!, name, w.cohort) : profile.frequencies, w.features[name]!);
    }
    if (w.predictions && w.predictions.length > 0) feed(PREDICTION_STREAM, ref?.predictions ?? null, w.predictions);
    if (w.confidence && w.confidence.counts.length > 0) {
      const refConf = ref?.confidence;
      if (refConf && !sameEdges(refConf.edges, w.confidence.edges)) issues.push({ stream: CONFIDENCE_STREAM, reason: 'edges_mismatch' });
      else feed(CONFIDENCE_STREAM, refConf?.frequencies ?? null, w.confidence.counts, refConf ? undefined : w.confidence.edges.join(','));
    }
    return issues;
  }

  /** Detection windows closed since the last evaluation. */
  get waiting(): number {
    return this.closed.length;
  }

  /**
   * Decides every detection window closed since the last call as one family: Benjamini-Hochberg at
   * `fdr` over their p-values, with every stream of the fleet counted in the family; then the PSI
   * effect-size levels, the hysteresis, and the alert changes per (cohort, model).
   */
  evaluate(): AlertChange[] {
    const verdicts = this.closed;
    this.closed = [];
    if (verdicts.length === 0) return [];
    const c = this.config;
    const family = this.familySize();
    const significant = benjaminiHochberg(
      verdicts.map((x) => x.v.scores.pValue),
      c.fdr,
      family,
    );
    const touched = new Set<Group>();
    verdicts.forEach(({ v, g }, i) => {
      const psi = v.scores.psi;
      const level: DriftLevel = !significant[i] ? 'ok' : psi >= c.psiAlert ? 'alert' : psi >= c.psiWarn ? 'warn' : 'ok';
      v.stream.step(v, level);
      touched.add(g);
    });
    const changes: AlertChange[] = [];
    for (const g of touched) {
      const change = this.updateGroup(g);
      if (change) changes.push(change);
    }
    return changes;
  }

  /**
   * The false-discovery family: every stream that received data in the last 24 h, tested now or not.
   * Streams of retired model versions and silent cohorts drop out, so sensitivity does not erode as
   * versions accumulate; groups idle for 7 days without an open alert are forgotten.
   */
  private familySize(): number {
    const now = this.now().getTime();
    if (now - this.lastSweep >= SWEEP_EVERY_MS) {
      this.lastSweep = now;
      let active = 0;
      for (const [key, g] of this.groups) {
        const last = Math.max(-Infinity, ...g.streams.map((s) => s.lastActivity));
        if (!g.alert && now - last > FORGET_AFTER_MS) {
          this.groups.delete(key);
          continue;
        }
        for (const s of g.streams) if (now - s.lastActivity <= FAMILY_ACTIVE_MS) active++;
      }
      this.activeStreams = active;
      this.createdSinceSweep = 0;
    }
    return this.activeStreams + this.createdSinceSweep;
  }

  private feature(s: DriftStream): AlertFeature {
    const last = s.last!;
    return {
      name: s.name,
      psi: last.scores.psi,
      js: last.scores.js,
      pValue: last.scores.pValue,
      level: last.level,
      peakPsi: s.peakPsi,
      since: iso(s.runSince ?? last.start),
      active: s.alerting,
    };
  }

  private updateGroup(g: Group): AlertChange | null {
    // Streams restored after a restart are alerting before they have a verdict of their own.
    const alerting = g.streams.filter((s) => s.alerting);
    const at = this.now().toISOString();
    const critical = alerting.some((s) => s.peakPsi >= this.config.psiAlert);
    const windows = Math.max(0, ...alerting.map((s) => s.runWindows));
    if (!g.alert) {
      if (alerting.length === 0) return null;
      const features = alerting.filter((s) => s.last).map((s) => this.feature(s));
      g.alert = {
        id: this.newId(),
        cohort: g.cohort,
        model: g.model,
        features,
        severity: critical ? 'critical' : 'warning',
        since: features.map((f) => f.since).sort()[0]!,
        windows,
        state: 'open',
        openedAt: at,
        updatedAt: at,
        resolvedAt: null,
        resolvedBy: null,
        acknowledgedAt: null,
        acknowledgedBy: null,
      };
      return { type: 'raised', alert: structuredClone(g.alert) };
    }
    const a = g.alert;
    for (const s of g.streams) {
      const i = a.features.findIndex((f) => f.name === s.name);
      if (s.alerting && s.last) {
        const f = this.feature(s);
        if (i >= 0)
          a.features[i] = {
            ...f,
            peakPsi: Math.max(f.peakPsi, a.features[i]!.peakPsi),
            since: a.features[i]!.active ? a.features[i]!.since : f.since,
          };
        else a.features.push(f);
      } else if (i >= 0 && a.features[i]!.active) {
        a.features[i] = {
          ...a.features[i]!,
          active: false,
          ...(s.last ? { psi: s.last.scores.psi, js: s.last.scores.js, pValue: s.last.scores.pValue, level: s.last.level } : {}),
        };
      }
    }
    a.updatedAt = at;
    a.windows = Math.max(a.windows, windows);
    a.since = a.features
      .map((f) => f.since)
      .concat(a.since)
      .sort()[0]!;
    if (alerting.length === 0) {
      a.state = 'resolved';
      a.resolvedAt = at;
      a.resolvedBy = 'detector';
      g.alert = null;
      return { type: 'resolved', alert: structuredClone(a) };
    }
    if (critical && a.severity === 'warning') {
      a.severity = 'critical';
      return { type: 'escalated', alert: structuredClone(a) };
    }
    return { type: 'updated', alert: structuredClone(a) };
  }

  /** The open alert of each (cohort, model), copies. */
  openAlerts(): Alert[] {
    return [...this.groups.values()].flatMap((g) => (g.alert ? [structuredClone(g.alert)] : []));
  }

  /** Records an acknowledgement on the open alert `id`, if it is open here. */
  acknowledge(id: string, by: string, at: string): void {
    for (const g of this.groups.values()) {
      if (g.alert?.id === id) Object.assign(g.alert, { acknowledgedBy: by, acknowledgedAt: at });
    }
  }

  /**
   * Closes the open alert `id` by hand: its streams return to normal, so drift that persists raises a
   * new alert after `raiseAfter` windows. Returns the resolved alert, or null when it is not open here.
   */
  resolve(id: string, by: string): Alert | null {
    for (const g of this.groups.values()) {
      if (g.alert?.id !== id) continue;
      for (const s of g.streams) s.reset();
      const at = this.now().toISOString();
      const a: Alert = {
        ...g.alert,
        state: 'resolved',
        resolvedAt: at,
        resolvedBy: by,
        updatedAt: at,
        features: g.alert.features.map((f) => ({ ...f, active: false })),
      };
      g.alert = null;
      return a;
    }
    return null;
  }

  /** Re-opens alerts stored before a restart, so drift that continues updates them and drift that ended resolves them. */
  restore(alerts: readonly Alert[]): void {
    for (const a of alerts) {
      if (a.state !== 'open') continue;
      const g = this.group(a.cohort, a.model);
      g.alert = structuredClone(a);
      const ref = this.refs.get(a.model)?.ref;
      for (const f of a.features) {
        if (!f.active) continue;
        this.stream(g, f.name, ref ? this.frequenciesFor(ref, f.name, a.cohort) : null).resume(Date.parse(f.since), f.peakPsi);
      }
    }
  }

  /** Live state of the streams, optionally of one cohort and/or model. */
  status(filter: { cohort?: string; model?: string } = {}): StreamStatus[] {
    const out: StreamStatus[] = [];
    for (const s of [...this.groups.values()].flatMap((g) => g.streams)) {
      if ((filter.cohort && s.cohort !== filter.cohort) || (filter.model && s.model !== filter.model)) continue;
      out.push({
        cohort: s.cohort,
        model: s.model,
        stream: s.name,
        against: s.hasReference ? 'reference' : s.baselineCount >= this.config.baselineSamples ? 'baseline' : 'learning',
        psi: s.last?.scores.psi ?? null,
        js: s.last?.scores.js ?? null,
        pValue: s.last?.scores.pValue ?? null,
        level: s.last?.level ?? null,
        alerting: s.alerting,
        windowsTested: s.windowsTested,
        pending: s.pendingCount,
        since: s.runSince === null ? null : iso(s.runSince),
        lastWindowEnd: s.last ? iso(s.last.end) : null,
      });
    }
    return out;
  }
}

function sameEdges(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (Math.abs(a[i]! - b[i]!) > 1e-9 * Math.max(1, Math.abs(a[i]!))) return false;
  return true;
}

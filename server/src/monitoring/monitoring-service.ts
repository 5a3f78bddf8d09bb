// The monitoring service: ingests telemetry batches, keeps rollups and drift detectors current, raises and
// publishes alerts (as events: SSE and the events domain's webhooks), answers series queries, and applies retention.
import type { ReferenceProfile } from '@flotilla/firmware-bundler';
import type { TelemetryWindow } from '@flotilla/firmware-bundler/wire';
import type { Logger } from '../log/logger.ts';
import type { Alert, AlertChange } from './alert.ts';
import { deviceSetHealth, type DeviceSetHealth } from './device-set-health.ts';
import type { DriftConfig } from './drift-config.ts';
import { DriftDetector, type StreamStatus } from './drift-detector.ts';
import { modelKey, referenceForCohort, type ModelReference } from './model-reference.ts';
import { MonitoringError } from './monitoring-error.ts';
import { MonitoringEvents } from './monitoring-events.ts';
import { addCounts, countsOfWindow, HOUR_MS, hourOf, MINUTE_RETENTION_MS, minuteOf, NO_MODEL, type Rollup, type Scope } from './rollup.ts';
import { buildSeries, MAX_MINUTE_RANGE_MS, type Bucket, type Metric, type Series } from './series.ts';
import type { AlertFilter, PruneResult, TelemetryStore, WindowRecord } from './telemetry-store.ts';
import { histogramMean } from './histogram.ts';
import { checkWindow, type FeatureIssueReason, type WindowRejectReason } from './window-check.ts';

/** Cohort of devices that carry no tags. */
export const DEFAULT_COHORT = 'untagged';
const DAY_MS = 24 * HOUR_MS;

/** How long telemetry is kept. */
export interface RetentionConfig {
  /** Raw windows, days (default 7: enough to replay a week for a device; rollups carry the long view). */
  windowDays: number;
  /** Hourly rollups, days (default 90). */
  rollupDays: number;
  /** Resolved alerts, days after their last update (default 90); open alerts are never deleted. */
  resolvedAlertDays: number;
}

export const DEFAULT_RETENTION: Readonly<RetentionConfig> = Object.freeze({ windowDays: 7, rollupDays: 90, resolvedAlertDays: 90 });

export interface MonitoringOptions {
  store: TelemetryStore;
  drift?: Partial<DriftConfig>;
  retention?: Partial<RetentionConfig>;
  log?: Logger;
  /** Check each window against the wire schema (default true; a caller that decoded with it may pass false). */
  validateSchema?: boolean;
  /** Largest lead of a device clock accepted, ms (default 24 h). */
  maxClockSkewMs?: number;
  /** Clock, ms since the epoch (tests). */
  now?: () => number;
  /** Alert id factory (default random UUIDs). */
  newId?: () => string;
}

/** One window as it arrived from a device, with the device's cohorts (tags) at that time. */
export interface IngestItem {
  deviceId: string;
  /** Empty means the `untagged` cohort. */
  cohorts: string[];
  window: TelemetryWindow;
}

export interface IngestResult {
  /** Windows stored for the first time. */
  accepted: number;
  /** Windows stored before (resends): acknowledge them again, change nothing. */
  duplicates: number;
  /** Windows refused whole; acknowledge them too, since resending cannot fix them. */
  rejected: { deviceId: string; seq: number | null; reason: WindowRejectReason; detail: string }[];
  /** Features (or output streams) left out of rollups and drift, counted by reason. */
  ignored: Partial<Record<FeatureIssueReason | 'edges_mismatch', number>>;
  /** Alerts this batch opened. */
  alertsRaised: Alert[];
}

export interface SeriesQuery {
  scope: Scope;
  /** Cohort tag or device id (ignored for the fleet). */
  id?: string;
  model?: string;
  /** ms since the epoch; `to` exclusive. */
  from: number;
  to: number;
  bucket: Bucket;
  metrics: readonly Metric[];
}

export interface MonitoringStats {
  accepted: number;
  duplicates: number;
  rejected: Partial<Record<WindowRejectReason, number>>;
  ignored: Partial<Record<FeatureIssueReason | 'edges_mismatch', number>>;
  alertsRaised: number;
}

const bump = <K extends string>(m: Partial<Record<K, number>>, k: K, n = 1) => void (m[k] = (m[k] ?? 0) + n);
/** Longest series range one query may ask for. */
const MAX_RANGE_MS = 400 * DAY_MS;

export class MonitoringService {
  readonly events: MonitoringEvents;
  private readonly detector: DriftDetector;
  private readonly retention: RetentionConfig;
  private readonly now: () => number;
  private queue: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private readonly totals: MonitoringStats;

  private constructor(private readonly o: MonitoringOptions) {
    this.now = o.now ?? Date.now;
    this.detector = new DriftDetector(o.drift, o.newId, () => new Date(this.now()));
    this.retention = { ...DEFAULT_RETENTION, ...o.retention };
    this.events = new MonitoringEvents((e) => o.log?.warn('monitoring listener failed', { err: String(e) }));
    this.totals = { accepted: 0, duplicates: 0, rejected: {}, ignored: {}, alertsRaised: 0 };
  }

  /** Opens the service on `store`: stored references are registered and open alerts resumed. */
  static async open(o: MonitoringOptions): Promise<MonitoringService> {
    const s = new MonitoringService(o);
    for (const r of await o.store.listReferences()) s.detector.setReference(r.model, r.reference);
    s.detector.restore(await o.store.listAlerts({ state: 'open', limit: 10_000 }));
    return s;
  }

  get driftConfig(): Readonly<DriftConfig> {
    return this.detector.config;
  }

  /**
   * Registers what model `key` (`name@version`) is compared against: the bundle's reference profile, its
   * labels, and optionally expected prediction shares, confidence histogram and per-cohort profiles
   * (`cohorts`: what each cohort is expected to send, when it differs). Stored, so it survives restarts.
   * Native bundles bring their cohort profiles in the manifest (see `referenceFromManifest`); an
   * imported model's reference may pass them here the same way.
   */
  async setReference(
    key: string,
    profile: ReferenceProfile,
    labels?: string[],
    extra: Pick<ModelReference, 'predictions' | 'confidence' | 'cohorts'> = {},
  ): Promise<void> {
    const ref: ModelReference = { features: profile.features, ...(labels ? { labels } : {}), ...extra };
    this.detector.setReference(key, ref);
    await this.o.store.putReference(key, ref);
  }

  reference(key: string): ModelReference | undefined {
    return this.detector.reference(key);
  }

  onWindow(fn: Parameters<MonitoringEvents['onWindow']>[0]): () => void {
    return this.events.onWindow(fn);
  }

  onAlert(fn: Parameters<MonitoringEvents['onAlert']>[0]): () => void {
    return this.events.onAlert(fn);
  }

  /**
   * Stores a batch (one transaction, de-duplicated by device and seq), feeds new windows to the drift
   * detectors of each of their cohorts, evaluates, and publishes alert changes. Batches run one at a time.
   */
  ingest(batch: readonly IngestItem[]): Promise<IngestResult> {
    const run = this.queue.then(() => this.ingestNow(batch));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async ingestNow(batch: readonly IngestItem[]): Promise<IngestResult> {
    const now = this.now();
    const r: IngestResult = { accepted: 0, duplicates: 0, rejected: [], ignored: {}, alertsRaised: [] };
    const records: WindowRecord[] = [];
    const times: { start: number; end: number }[] = [];
    const ctx = {
      notBefore: now - this.retention.windowDays * DAY_MS,
      notAfter: now + (this.o.maxClockSkewMs ?? DAY_MS),
      validateSchema: this.o.validateSchema ?? true,
    };
    for (const item of batch) {
      const cohorts = item.cohorts?.length ? [...new Set(item.cohorts)] : [DEFAULT_COHORT];
      let c: ReturnType<typeof checkWindow>;
      try {
        const model = item.window.model ? modelKey(item.window.model) : null;
        c = checkWindow(item.deviceId, cohorts, item.window, { ...ctx, reference: model ? this.detector.reference(model) : undefined });
      } catch (e) {
        // Only reachable with validateSchema off and a malformed object: refuse it like a schema failure.
        c = { ok: false, reason: 'invalid_schema', detail: String((e as Error).message ?? e) };
      }
      if (!c.ok) {
        const seq = typeof item.window?.seq === 'number' ? item.window.seq : null;
        r.rejected.push({ deviceId: String(item.deviceId), seq, reason: c.reason, detail: c.detail });
        bump(this.totals.rejected, c.reason);
        continue;
      }
      for (const i of c.issues) bump(r.ignored, i.reason);
      records.push({ deviceId: item.deviceId, cohorts, window: c.window, receivedAt: now });
      times.push({ start: c.start, end: c.end });
    }
    const fresh = await this.o.store.insertWindows(records);
    records.forEach((rec, i) => {
      if (!fresh[i]) {
        r.duplicates++;
        return;
      }
      r.accepted++;
      const w = rec.window;
      if (w.model) {
        const model = modelKey(w.model);
        for (const cohort of rec.cohorts) {
          const issues = this.detector.observe({
            cohort,
            model,
            start: times[i]!.start,
            end: times[i]!.end,
            features: w.features,
            predictions: w.predictions,
            confidence: w.confidence,
          });
          for (const x of issues) bump(r.ignored, x.reason);
        }
      }
      if (this.events.wantsWindows) {
        this.events.emitWindow({
          deviceId: rec.deviceId,
          cohorts: rec.cohorts,
          model: w.model ? modelKey(w.model) : '(none)',
          seq: w.seq,
          start: w.start,
          end: w.end,
          requests: w.requests,
          errors: w.errors,
          latencyP95Ms: w.latencyMs.p95,
        });
      }
    });
    for (const change of this.detector.evaluate()) {
      await this.publish(change);
      if (change.type === 'raised') r.alertsRaised.push(change.alert);
    }
    this.totals.accepted += r.accepted;
    this.totals.duplicates += r.duplicates;
    this.totals.alertsRaised += r.alertsRaised.length;
    for (const [k, n] of Object.entries(r.ignored)) bump(this.totals.ignored, k as FeatureIssueReason, n);
    return r;
  }

  private async publish(change: AlertChange): Promise<void> {
    await this.o.store.putAlert(change.alert);
    this.events.emitAlert(change);
    if (change.type === 'raised' || change.type === 'escalated' || change.type === 'resolved') {
      const a = change.alert;
      this.o.log?.info(`drift alert ${change.type}`, {
        id: a.id,
        cohort: a.cohort,
        model: a.model,
        severity: a.severity,
        features: a.features.filter((f) => f.active).map((f) => f.name),
      });
    }
  }

  /** Metric time series for the fleet, a cohort or a device, one per model. */
  async series(q: SeriesQuery): Promise<Series[]> {
    if (!(q.to > q.from) || q.to - q.from > MAX_RANGE_MS)
      throw new MonitoringError('INVALID_QUERY', `need from < to, at most ${MAX_RANGE_MS / DAY_MS} days apart`);
    if (q.scope !== 'fleet' && !q.id) throw new MonitoringError('INVALID_QUERY', `scope '${q.scope}' needs an id`);
    if (q.bucket === 'minute' && q.to - q.from > MAX_MINUTE_RANGE_MS) {
      throw new MonitoringError(
        'INVALID_QUERY',
        `minute buckets cover at most ${MAX_MINUTE_RANGE_MS / HOUR_MS} h; ask for bucket=hour for longer ranges`,
      );
    }
    const rollups =
      q.bucket !== 'minute'
        ? await this.o.store.rollups({ scope: q.scope, id: q.id ?? '*', model: q.model, from: hourOf(q.from), to: q.to })
        : q.scope === 'device'
          ? await this.deviceMinutes(q.id!, q.model, q.from, q.to)
          : await this.o.store.rollups({
              scope: q.scope,
              id: q.id ?? '*',
              model: q.model,
              from: minuteOf(q.from),
              to: q.to,
              resolution: 'minute',
            });
    // A cohort's drift is drawn against what that cohort is expected to send.
    const reference = (m: string) => {
      const ref = this.detector.reference(m);
      return ref && q.scope === 'cohort' ? referenceForCohort(ref, q.id) : ref;
    };
    return buildSeries(rollups, { bucket: q.bucket, metrics: q.metrics, reference, epsilon: this.detector.config.psiEpsilon });
  }

  /**
   * One device's minutes, summed from its raw windows: a row per device and minute would cost more than
   * the windows themselves. Bounded by the 6 h a minute series may cover (2 s windows: 10,800 of them).
   */
  private async deviceMinutes(deviceId: string, model: string | undefined, from: number, to: number): Promise<Rollup[]> {
    const stored = await this.o.store.windows({ deviceId, from: minuteOf(from), to, limit: 20_000 });
    const byKey = new Map<string, Rollup>();
    for (const s of stored) {
      if (model && s.model !== model) continue;
      const minute = minuteOf(Date.parse(s.window.start));
      const key = `${minute}\u0000${s.model}`;
      const r = byKey.get(key);
      if (r) addCounts(r, countsOfWindow(s.window));
      else byKey.set(key, { scope: 'device', id: deviceId, model: s.model, hour: minute, ...countsOfWindow(s.window) });
    }
    return [...byKey.values()];
  }

  /**
   * The models (`name@version`) `deviceId` has stored windows for within the raw-window retention, the most
   * recently seen last, at most `limit`: what the telemetry admission remembered of it before a restart.
   */
  async recentModelsOf(deviceId: string, limit: number): Promise<string[]> {
    const now = this.now();
    const rollups = await this.o.store.deviceRollups({
      deviceIds: [deviceId],
      from: hourOf(now - this.retention.windowDays * DAY_MS),
      to: now + HOUR_MS,
    });
    const last = new Map<string, number>();
    for (const r of rollups) if (r.model !== NO_MODEL) last.set(r.model, Math.max(last.get(r.model) ?? 0, r.hour));
    return [...last]
      .sort((a, b) => a[1] - b[1])
      .map(([m]) => m)
      .slice(-limit);
  }

  /**
   * Model key and interval (ms) of `deviceId`'s newest stored windows within the raw-window retention, at most
   * `limit`: the time the telemetry ingest had credited it for before a restart (window-coverage.ts).
   */
  async recentSpansOf(deviceId: string, limit: number): Promise<{ model: string; start: number; end: number }[]> {
    const now = this.now();
    const stored = await this.o.store.windows({
      deviceId,
      from: now - this.retention.windowDays * DAY_MS,
      to: now + (this.o.maxClockSkewMs ?? DAY_MS),
      limit,
    });
    return stored.map((s) => ({ model: s.model, start: Date.parse(s.window.start), end: Date.parse(s.window.end) }));
  }

  /**
   * Health of `deviceIds` on `model` since `since` (ms), for rollout gates. Hour rollups are used, so
   * telemetry from the hour `since` falls in counts too (a new model version has none before its
   * rollout). `shadow`: the shadow model's figures from the devices' windows on any serving model.
   * Confidence drop is against `baselineConfidence`, else the reference's confidence histogram mean.
   */
  async deviceSetHealth(q: {
    deviceIds: readonly string[];
    model: string;
    since: number;
    shadow?: boolean;
    baselineConfidence?: number;
  }): Promise<DeviceSetHealth> {
    const rollups = await this.o.store.deviceRollups({
      deviceIds: q.deviceIds,
      model: q.shadow ? undefined : q.model,
      from: hourOf(q.since),
      to: this.now() + HOUR_MS,
    });
    const reference = this.detector.reference(q.model);
    const refConf = reference?.confidence;
    const baselineConfidence =
      q.baselineConfidence ?? (refConf ? (histogramMean({ edges: refConf.edges, counts: refConf.frequencies })?.mean ?? null) : null);
    return deviceSetHealth(rollups, { reference, baselineConfidence, shadow: q.shadow ?? false, epsilon: this.detector.config.psiEpsilon });
  }

  /** Live drift state of every stream (optionally one cohort and/or model). */
  drift(filter: { cohort?: string; model?: string } = {}): StreamStatus[] {
    return this.detector.status(filter);
  }

  alerts(filter: AlertFilter = {}): Promise<Alert[]> {
    return this.o.store.listAlerts(filter);
  }

  /** One alert by id (code ALERT_NOT_FOUND when there is none). */
  alert(id: string): Promise<Alert> {
    return this.mustGet(id);
  }

  private async mustGet(id: string): Promise<Alert> {
    const a = await this.o.store.getAlert(id);
    if (!a) throw new MonitoringError('ALERT_NOT_FOUND', `alert '${id}' was not found`);
    return a;
  }

  /** Runs `change` on open alert `id` (refused with ALERT_STATE when resolved) at the current time, one change at a time. */
  private onOpenAlert(id: string, change: (a: Alert, at: string) => Promise<Alert>): Promise<Alert> {
    return this.serial(async () => {
      const a = await this.mustGet(id);
      if (a.state !== 'open') throw new MonitoringError('ALERT_STATE', `alert '${id}' is already resolved`);
      return change(a, new Date(this.now()).toISOString());
    });
  }

  /** Records that `actor` has seen alert `id` (it stays open). */
  acknowledge(id: string, actor: string): Promise<Alert> {
    return this.onOpenAlert(id, async (a, at) => {
      const acked: Alert = { ...a, acknowledgedAt: at, acknowledgedBy: actor, updatedAt: at };
      this.detector.acknowledge(id, actor, at);
      await this.publish({ type: 'acknowledged', alert: acked });
      return acked;
    });
  }

  /** Resolves alert `id` by hand; drift that persists raises a new alert after `raiseAfter` windows. */
  resolve(id: string, actor: string): Promise<Alert> {
    return this.onOpenAlert(id, async (a, at) => {
      const resolved = this.detector.resolve(id, actor) ?? {
        ...a,
        state: 'resolved' as const,
        resolvedAt: at,
        resolvedBy: actor,
        updatedAt: at,
      };
      await this.publish({ type: 'resolved', alert: resolved });
      return resolved;
    });
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Deletes what is past retention as of `now`. */
  applyRetention(now = this.now()): Promise<PruneResult> {
    const t = this.retention;
    return this.o.store.prune({
      windowsBefore: now - t.windowDays * DAY_MS,
      rollupsBefore: hourOf(now - t.rollupDays * DAY_MS),
      minuteRollupsBefore: minuteOf(now - MINUTE_RETENTION_MS),
      alertsBefore: now - t.resolvedAlertDays * DAY_MS,
    });
  }

  /** Applies retention every `intervalMs` (default hourly) until `close`; the timer never keeps the process alive. */
  startRetention(intervalMs = HOUR_MS): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.applyRetention().catch((e) => this.o.log?.warn('telemetry retention failed', { err: String(e) }));
    }, intervalMs);
    this.timer.unref();
  }

  stats(): MonitoringStats {
    return structuredClone(this.totals);
  }

  /** Stops the retention timer and waits for the ingest queue. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.queue;
  }
}

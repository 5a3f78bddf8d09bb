// MQTT → monitoring: collects telemetry windows from devices, stores them in batches (500 windows or
// 100 ms), and acknowledges every window it has stored — resends too — so agents free their queues [WIRE-2.5].
// Each window is credited only for time its device was not credited for before (window-coverage.ts).
import { TelemetryWindow } from '@flotilla/firmware-bundler/wire';
import { AckedBatches } from '../broker/acked-batches.ts';
import type { BrokerLink } from '../broker/broker-link.ts';
import { subscribeDeviceMessages } from '../broker/device-messages.ts';
import type { Logger } from '../log/logger.ts';
import type { Store } from '../store/store.ts';
import type { IngestItem, MonitoringService } from './monitoring-service.ts';
import { modelKey } from './model-reference.ts';
import { NO_MODEL } from './rollup.ts';
import { desiredModels, MAX_MODELS_PER_DEVICE, ModelAdmission } from './window-admission.ts';
import { clipWindow } from './window-clip.ts';
import { WindowCoverage } from './window-coverage.ts';

/** A device's newest stored windows read back on its first window since start (older ones count as covered). */
const SEED_WINDOWS = 16;

export interface TelemetryIngestOptions {
  link: BrokerLink;
  store: Store;
  monitoring: MonitoringService;
  log: Logger;
  prefix: string;
  /** Windows per batch (default 500). */
  batchSize?: number;
  /** Longest a window waits for its batch, ms (default 100). */
  maxDelayMs?: number;
  /** How long a device's tags and given models are cached, ms (default 60 s). */
  tagTtlMs?: number;
  /** Predictions per second a device is credited with at most (default 1000) [WIRE-2.10]. */
  maxPredictionsPerSec?: number;
}

/** What the ingest knows of a device: its cohorts, and the models the server gave it [WIRE-2.10]. */
interface DeviceFacts {
  tags: string[];
  given: string[];
  until: number;
}

export class TelemetryIngest {
  /** Windows waiting for the next flush; a refused one is only acknowledged, never stored. */
  private readonly batches: AckedBatches<IngestItem & { refused?: string }>;
  private unsubscribe: (() => Promise<void>) | null = null;
  private readonly facts = new Map<string, DeviceFacts>();
  private readonly admission = new ModelAdmission();
  /** Payloads dropped before storage because they were not valid windows [WIRE-2.1]. */
  invalid = 0;
  /** Windows refused because they name a model the device was not given [WIRE-2.10]. */
  refused = 0;
  private readonly coverage = new WindowCoverage();
  /** Windows refused because their whole interval was credited before (resends, or a device repeating itself) [WIRE-2.10]. */
  overlapping = 0;
  /** Windows credited only for the part of their interval not credited before, their counts scaled to it. */
  trimmed = 0;

  constructor(private readonly o: TelemetryIngestOptions) {
    this.batches = new AckedBatches({
      link: o.link,
      prefix: o.prefix,
      kind: 'telemetry',
      batchSize: o.batchSize ?? 500,
      maxDelayMs: o.maxDelayMs,
      // Rejected and refused windows are acknowledged too: resending one can never make it valid.
      store: async (batch) => {
        const credited = this.credit(batch.filter((it) => !it.refused));
        const r = await o.monitoring.ingest(credited);
        if (r.rejected.length) o.log.warn('telemetry windows rejected', { count: r.rejected.length, first: r.rejected[0] });
        // Only now, and only for what was not rejected: a batch that failed is resent and must find its time free.
        const rejected = new Set(r.rejected.map((x) => `${x.deviceId}#${x.seq}`));
        const kept = this.coverage.batch();
        for (const it of credited) if (!rejected.has(`${it.deviceId}#${it.window.seq}`)) kept.take(...spanOf(it));
        kept.commit();
      },
      ackOf: (it) => ({ deviceId: it.deviceId, seq: it.window.seq }),
      // Not acknowledged: the agents keep the windows and send them again.
      onFailure: (batch, err) => o.log.error('telemetry batch failed', { windows: batch.length, err }),
    });
  }

  async start(): Promise<void> {
    this.unsubscribe = await subscribeDeviceMessages(
      this.o.link,
      this.o.prefix,
      'telemetry',
      TelemetryWindow,
      (id, window) => void this.enqueue(id, window),
      (id, error) => {
        this.invalid++;
        // Debug only: a device sending garbage on purpose must not be able to flood the log.
        this.o.log.debug('invalid telemetry window dropped', { device: id, error });
      },
    );
  }

  async close(): Promise<void> {
    await this.unsubscribe?.();
    await this.flush();
  }

  private async enqueue(deviceId: string, received: TelemetryWindow): Promise<void> {
    let facts = await this.factsOf(deviceId);
    const window = received;
    // A model missing from cached facts may be one given since: look again before refusing (its desired state,
    // then, only if still missing, the rollouts that notified it: the desired state answers most after a rollout).
    const key = window.model ? modelKey(window.model) : null;
    if (key && !facts.given.includes(key)) facts = await this.factsOf(deviceId, true);
    if (key && !facts.given.includes(key)) facts.given.push(...(await this.rolledOutTo(deviceId)));
    // First sight since start: what it was admitted for before, from its stored windows (once per device).
    if (window.model && this.admission.needsSeed(deviceId))
      this.admission.seed(deviceId, await this.o.monitoring.recentModelsOf(deviceId, MAX_MODELS_PER_DEVICE));
    // First sight since start: the time its stored windows were credited for.
    if (this.coverage.needsSeed(deviceId)) {
      const spans = await this.o.monitoring.recentSpansOf(deviceId, SEED_WINDOWS);
      this.coverage.seed(deviceId, spans, spans.length >= SEED_WINDOWS);
    }
    const refused = this.admission.check(deviceId, window, facts.given) ?? undefined;
    if (refused) {
      this.refused++;
      this.o.log.warn('telemetry window refused', { device: deviceId, seq: window.seq, reason: refused });
    }
    this.batches.add({ deviceId, cohorts: facts.tags, window, refused });
  }

  /**
   * The windows of a batch as credited: one whose interval (per device and model) was wholly credited before is
   * left out (it is still acknowledged), one partly credited keeps counts for the rest of its interval only, so one
   * device adds at most its time × the top rate to fleet sums however many windows it sends for that time.
   */
  private credit(batch: readonly (IngestItem & { refused?: string })[]): IngestItem[] {
    const cover = this.coverage.batch();
    const out: IngestItem[] = [];
    for (const it of batch) {
      const span = spanOf(it);
      // Not an interval: the monitoring service rejects it with its reason.
      if (!Number.isFinite(span[2]) || !Number.isFinite(span[3]) || span[3] < span[2]) {
        out.push(it);
        continue;
      }
      const free = cover.uncovered(...span);
      if (free.ms === 0) {
        this.overlapping++;
        // Debug only: a device repeating itself on purpose must not be able to flood the log.
        this.o.log.debug('telemetry window refused', {
          device: it.deviceId,
          seq: it.window.seq,
          reason: 'its interval was credited before',
        });
        continue;
      }
      if (free.ms < free.of) this.trimmed++;
      cover.take(...span);
      out.push({ ...it, window: clipWindow(it.window, this.o.maxPredictionsPerSec, free.ms) });
    }
    return out;
  }

  private async factsOf(deviceId: string, fresh = false): Promise<DeviceFacts> {
    const hit = this.facts.get(deviceId);
    if (hit && hit.until > Date.now() && !fresh) return hit;
    const d = await this.o.store.devices.get(deviceId);
    // The bundle it reports running counts only as the server knows it (a bundle id it made), never by the model name the device claims.
    const reported = typeof d?.reported?.bundleId === 'string' ? await this.o.store.bundles.get(d.reported.bundleId) : null;
    const given = [
      ...desiredModels(d),
      ...(reported && reported.id === d?.reported?.bundleId ? [modelKey({ name: reported.model, version: reported.version })] : []),
    ];
    const facts = { tags: d?.tags ?? [], given, until: Date.now() + (this.o.tagTtlMs ?? 60_000) };
    this.facts.set(deviceId, facts);
    return facts;
  }

  /**
   * `name@version` of the newest bundles rollouts notified `deviceId` of (at most MAX_MODELS_PER_DEVICE): its desired
   * state may have moved on (a newer rollout) before the windows it made with the earlier model reached the server.
   */
  private async rolledOutTo(deviceId: string): Promise<string[]> {
    const out: string[] = [];
    for (const m of (await this.o.store.rollouts.memberships(deviceId))
      .filter((x) => x.notifiedAt !== null)
      .slice(0, MAX_MODELS_PER_DEVICE)) {
      const b = await this.o.store.bundles.get(m.bundleId);
      if (b) out.push(modelKey({ name: b.model, version: b.version }));
    }
    return out;
  }

  /** Stores what is pending, then acknowledges it; one flush at a time, in arrival order. */
  flush(): Promise<void> {
    return this.batches.flush();
  }
}

/** Device, model key, start and end (ms) of an item's window: what its coverage is kept by. */
function spanOf(it: IngestItem): [string, string, number, number] {
  const w = it.window;
  return [it.deviceId, w.model ? modelKey(w.model) : NO_MODEL, Date.parse(w.start), Date.parse(w.end)];
}

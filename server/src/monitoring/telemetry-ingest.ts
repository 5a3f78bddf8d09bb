// MQTT → monitoring: collects telemetry windows from devices, stores them in batches (500 windows or
// 100 ms), and acknowledges every window it has stored — resends too — so agents free their queues [WIRE-2.5].
import { Ack, deviceTopic, encodeMessage, TelemetryWindow } from '@flotilla/firmware-bundler/wire';
import type { BrokerLink } from '../broker/broker-link.ts';
import { subscribeDeviceMessages } from '../broker/device-messages.ts';
import type { Logger } from '../log/logger.ts';
import type { Store } from '../store/store.ts';
import type { IngestItem, MonitoringService } from './monitoring-service.ts';

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
  /** How long a device's tags are cached, ms (default 60 s). */
  tagTtlMs?: number;
}

export class TelemetryIngest {
  private pending: IngestItem[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();
  private unsubscribe: (() => Promise<void>) | null = null;
  private readonly tags = new Map<string, { tags: string[]; until: number }>();
  /** Payloads dropped before storage because they were not valid windows [WIRE-2.1]. */
  invalid = 0;

  constructor(private readonly o: TelemetryIngestOptions) {}

  async start(): Promise<void> {
    this.unsubscribe = await subscribeDeviceMessages(this.o.link, this.o.prefix, 'telemetry', TelemetryWindow,
      (id, window) => void this.enqueue(id, window), () => this.invalid++);
  }

  async close(): Promise<void> {
    await this.unsubscribe?.();
    if (this.timer) clearTimeout(this.timer);
    await this.flush();
  }

  private async enqueue(deviceId: string, window: TelemetryWindow): Promise<void> {
    this.pending.push({ deviceId, cohorts: await this.cohortsOf(deviceId), window });
    if (this.pending.length >= (this.o.batchSize ?? 500)) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.o.maxDelayMs ?? 100);
  }

  private async cohortsOf(deviceId: string): Promise<string[]> {
    const hit = this.tags.get(deviceId);
    if (hit && hit.until > Date.now()) return hit.tags;
    const d = await this.o.store.devices.get(deviceId);
    const tags = d?.tags ?? [];
    this.tags.set(deviceId, { tags, until: Date.now() + (this.o.tagTtlMs ?? 60_000) });
    return tags;
  }

  /** Stores what is pending, then acknowledges it; one flush at a time, in arrival order. */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return this.flushing;
    this.flushing = this.flushing.then(async () => {
      try {
        const r = await this.o.monitoring.ingest(batch);
        if (r.rejected.length) this.o.log.warn('telemetry windows rejected', { count: r.rejected.length, first: r.rejected[0] });
        // Rejected windows are acknowledged too: resending an invalid window can never make it valid.
        const byDevice = new Map<string, number[]>();
        for (const it of batch) byDevice.set(it.deviceId, [...(byDevice.get(it.deviceId) ?? []), it.window.seq]);
        await Promise.all([...byDevice].map(([id, seqs]) => this.o.link.publish({
          topic: deviceTopic(this.o.prefix, id, 'ack'), payload: encodeMessage({ v: 1, kind: 'telemetry', seqs } satisfies Ack), qos: 1,
        })));
      } catch (e) {
        // Not acknowledged: the agents keep the windows and send them again.
        this.o.log.error('telemetry batch failed', { windows: batch.length, err: String((e as Error)?.stack ?? e) });
      }
    });
    return this.flushing;
  }
}

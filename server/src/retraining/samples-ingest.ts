// MQTT → field samples: collects sampled inputs from devices, stores them in batches, then acknowledges each
// batch it stored — resends too — so agents free their sample queues (same pattern as telemetry-ingest.ts).
import { fromBase64, SampleBatch } from '@flotilla/firmware-bundler/wire';
import { AckedBatches } from '../broker/acked-batches.ts';
import type { BrokerLink } from '../broker/broker-link.ts';
import { subscribeDeviceMessages } from '../broker/device-messages.ts';
import type { Logger } from '../log/logger.ts';
import type { Store } from '../store/store.ts';
import type { FieldSample, FieldSampleStore } from './field-sample-store.ts';
import { SampleAdmission, samplingPolicy } from './sample-admission.ts';

export interface SamplesIngestOptions {
  link: Pick<BrokerLink, 'subscribe' | 'publish'>;
  store: Pick<Store, 'devices'>;
  samples: FieldSampleStore;
  log: Logger;
  prefix: string;
  /** Longest a batch waits before it is stored, ms (default 100). */
  maxDelayMs?: number;
  /** Clock for the per-window byte budgets (tests). */
  now?: () => number;
}

interface Pending {
  deviceId: string;
  seq: number;
  rows: FieldSample[];
}

export class SamplesIngest {
  private readonly batches: AckedBatches<Pending>;
  private unsubscribe: (() => Promise<void>) | null = null;
  /** Payloads dropped because they were not valid sample batches [WIRE-2.1]. */
  invalid = 0;
  /** Items dropped because their input did not match their shape (the rest of the batch is kept). */
  invalidItems = 0;
  /** Rows newly stored (resends not counted). */
  stored = 0;
  /** Items refused because the device's desired state asks for none, or its byte budget was spent. */
  refused = 0;
  private readonly admission: SampleAdmission;
  /** Refusals already logged, by device: one line per device, not one per message. */
  private readonly refusalLogged = new Set<string>();

  constructor(private readonly o: SamplesIngestOptions) {
    this.admission = new SampleAdmission(o.now);
    this.batches = new AckedBatches({
      link: o.link,
      prefix: o.prefix,
      kind: 'samples',
      maxDelayMs: o.maxDelayMs,
      store: async (batch) => {
        this.stored += await o.samples.insertMany(batch.flatMap((p) => p.rows));
      },
      ackOf: (p) => p,
      // Not acknowledged: the agents keep the samples and send them again.
      onFailure: (batch, err) => o.log.error('sample batch failed', { batches: batch.length, err }),
    });
  }

  async start(): Promise<void> {
    this.unsubscribe = await subscribeDeviceMessages(
      this.o.link,
      this.o.prefix,
      'samples',
      SampleBatch,
      (id, batch) => void this.enqueue(id, batch),
      () => this.invalid++,
    );
  }

  async close(): Promise<void> {
    await this.unsubscribe?.();
    await this.flush();
  }

  private async enqueue(deviceId: string, batch: SampleBatch): Promise<void> {
    const d = await this.o.store.devices.get(deviceId);
    const reported = d?.reported as { model?: { name?: string } | null } | null | undefined;
    const model = reported?.model?.name ?? d?.modelVersion?.split('@')[0] ?? 'unknown';
    const policy = samplingPolicy(d?.desired);
    if (policy && policy.sampleBudgetBytes > 0 && this.admission.needsSeed(deviceId, model)) {
      // First sight since start: count what it stored in its last window (received times are the store's wall clock).
      this.admission.seed(deviceId, model, await this.o.samples.bytesReceived(deviceId, model, Date.now() - policy.windowSec * 1000));
    }
    const rows: FieldSample[] = [];
    for (const it of batch.items) {
      const input = fromBase64(it.input);
      const values = it.shape.reduce((a, b) => a * b, 1);
      if (!input || input.length !== values * 4) {
        this.invalidItems++;
        continue;
      }
      const why = this.admission.admit(deviceId, model, policy, input.length);
      if (why) {
        // Still acknowledged below: a resend would be refused again, so the device may as well free it.
        this.refused++;
        if (this.refusalLogged.size < 10_000 && !this.refusalLogged.has(deviceId)) {
          this.refusalLogged.add(deviceId);
          this.o.log.warn('field samples refused', { deviceId, why });
        }
        continue;
      }
      rows.push({
        deviceId,
        predictionId: it.predictionId,
        cohorts: d?.tags ?? [],
        model,
        input,
        shape: it.shape,
        prediction: it.prediction,
        confidence: it.confidence,
        // [WIRE-2.12.1] The agent says where a label came from; one that says nothing is older than the field.
        label: it.label,
        source: it.label === null ? null : (it.source ?? 'unknown'),
        at: it.at,
      });
    }
    this.batches.add({ deviceId, seq: batch.seq, rows });
  }

  /** Stores what is pending, then acknowledges it; one flush at a time, in arrival order. */
  flush(): Promise<void> {
    return this.batches.flush();
  }
}

// Stores what devices send in batches, then acknowledges every stored message to its device — resends
// too — so agents free their queues [WIRE-2.5]. The batching, the one-flush-at-a-time ordering and the
// per-device acks that telemetry windows and field samples share; what is stored is the caller's.
import { Ack, deviceTopic, encodeMessage } from '@flotilla/firmware-bundler/wire';
import type { BrokerLink } from './broker-link.ts';

export interface AckedBatchesOptions<T> {
  link: Pick<BrokerLink, 'publish'>;
  prefix: string;
  /** The ack's kind: which of the device's queues it frees. */
  kind: Ack['kind'];
  /** Stores one batch; throwing leaves the batch unacknowledged, so the agents send it again. */
  store: (batch: T[]) => Promise<void>;
  /** The device an item came from and the sequence number its message carried. */
  ackOf: (item: T) => { deviceId: string; seq: number };
  /** Told when a batch could not be stored or acknowledged (the error with its stack). */
  onFailure: (batch: T[], err: string) => void;
  /** Items that flush at once (default: only the delay flushes). */
  batchSize?: number;
  /** Longest an item waits for its batch, ms (default 100). */
  maxDelayMs?: number;
}

export class AckedBatches<T> {
  private pending: T[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();

  constructor(private readonly o: AckedBatchesOptions<T>) {}

  add(item: T): void {
    this.pending.push(item);
    if (this.o.batchSize !== undefined && this.pending.length >= this.o.batchSize) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.o.maxDelayMs ?? 100);
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
        await this.o.store(batch);
        const byDevice = new Map<string, number[]>();
        for (const { deviceId, seq } of batch.map(this.o.ackOf)) byDevice.set(deviceId, [...(byDevice.get(deviceId) ?? []), seq]);
        await Promise.all(
          [...byDevice].map(([id, seqs]) =>
            this.o.link.publish({
              topic: deviceTopic(this.o.prefix, id, 'ack'),
              payload: encodeMessage({ v: 1, kind: this.o.kind, seqs } satisfies Ack),
              qos: 1,
            }),
          ),
        );
      } catch (e) {
        this.o.onFailure(batch, String((e as Error)?.stack ?? e));
      }
    });
    return this.flushing;
  }
}

// Serves blobs to devices over MQTT [WIRE-2.7, 2.8]: request/response with correlation ids, a
// window of outstanding requests per device, a cap on concurrent transfers with a bounded wait line
// behind it, BUSY beyond both.
import {
  ChunkRequest,
  decodeMessage,
  deviceTopic,
  encodeChunkResponse,
  parseDeviceTopic,
  type ChunkResponseHeader,
} from '@flotilla/firmware-bundler/wire';
import type { BlobStore } from '../blob/blob-store.ts';
import type { BrokerLink, InboundMessage } from '../broker/broker-link.ts';
import type { Logger } from '../log/logger.ts';
import type { DeliveryService } from './delivery-service.ts';

export interface ChunkServiceOptions {
  link: BrokerLink;
  blobs: BlobStore;
  delivery: DeliveryService;
  log: Logger;
  prefix: string;
  /** Transfers served at once, over all devices. */
  maxConcurrentTransfers: number;
  /** Outstanding requests per device [WIRE-2.8]. */
  window: number;
  /** Largest response body in bytes; a larger blob is fetched in ranges. */
  maxResponseBytes: number;
  /** Called with the bytes of every successful response (for metrics). */
  onServed?: (bytes: number) => void;
}

/** Response codes of `ok: false` answers. */
export type ChunkErrorCode = 'BUSY' | 'NOT_ALLOWED' | 'NOT_FOUND' | 'RANGE' | 'INTERNAL';

export class ChunkService {
  private active = 0;
  /** Requests waiting for a transfer slot, oldest first; bounded by `queueLimit`. */
  private readonly waiting: { id: string; req: ChunkRequest }[] = [];
  /** Every device's full window fits for 32 slots' worth of devices (8,192 requests at the defaults). */
  private get queueLimit(): number {
    return this.o.maxConcurrentTransfers * 32;
  }
  private readonly perDevice = new Map<string, number>();
  private unsubscribe: (() => Promise<void>) | null = null;
  private readonly inFlight = new Set<Promise<void>>();
  /** Answers by outcome, for metrics. */
  readonly answered: Record<'ok' | ChunkErrorCode, number> = { ok: 0, BUSY: 0, NOT_ALLOWED: 0, NOT_FOUND: 0, RANGE: 0, INTERNAL: 0 };

  constructor(private readonly o: ChunkServiceOptions) {}

  async start(): Promise<void> {
    this.unsubscribe = await this.o.link.subscribe(`${this.o.prefix}/devices/+/chunks/req`, (m) => this.onRequest(m));
  }

  async close(): Promise<void> {
    await this.unsubscribe?.();
    // Waiting requests are dropped: their devices ask again after reconnecting.
    this.waiting.length = 0;
    await Promise.allSettled([...this.inFlight]);
  }

  private onRequest(m: InboundMessage): void {
    const t = parseDeviceTopic(this.o.prefix, m.topic);
    if (!t || m.clientId !== t.deviceId) return;
    const req = decodeMessage(ChunkRequest, m.payload);
    if (!req) {
      this.o.link.counters.add(t.deviceId, 'invalidMessages');
      return;
    }
    const id = t.deviceId;
    const mine = this.perDevice.get(id) ?? 0;
    // Over the device's window, or with the wait line full too: refusing costs no disk read, so an
    // overloaded server stays responsive [WIRE-2.8].
    if (mine >= this.o.window || (this.active >= this.o.maxConcurrentTransfers && this.waiting.length >= this.queueLimit)) {
      this.answer(id, { v: 1, cid: req.cid, digest: req.digest, ok: false, code: 'BUSY' }).catch(() => undefined);
      return;
    }
    this.perDevice.set(id, mine + 1);
    // Over the transfer cap, a request waits its turn instead of being refused: a waiting request is a
    // few dozen bytes, while a BUSY costs both sides a round trip and the device a backoff (with a
    // thousand devices updating at once, BUSY answers outnumbered chunks served).
    if (this.active >= this.o.maxConcurrentTransfers) this.waiting.push({ id, req });
    else this.transfer(id, req);
  }

  private transfer(id: string, req: ChunkRequest): void {
    this.active++;
    const work = this.serve(id, req).finally(() => {
      this.active--;
      const n = (this.perDevice.get(id) ?? 1) - 1;
      if (n <= 0) this.perDevice.delete(id);
      else this.perDevice.set(id, n);
      const next = this.waiting.shift();
      if (next) this.transfer(next.id, next.req);
    });
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  private async serve(id: string, req: ChunkRequest): Promise<void> {
    const fail = (code: ChunkErrorCode) => this.answer(id, { v: 1, cid: req.cid, digest: req.digest, ok: false, code });
    try {
      if (!(await this.o.delivery.fetchableBy(id)).has(req.digest)) return await fail('NOT_ALLOWED');
      const stat = await this.o.blobs.stat(req.digest);
      if (!stat) return await fail('NOT_FOUND');
      const offset = req.offset ?? 0;
      if (offset > stat.bytes) return await fail('RANGE');
      const length = Math.min(req.length ?? this.o.maxResponseBytes, this.o.maxResponseBytes, stat.bytes - offset);
      const bytes = length === 0 ? new Uint8Array() : await readRange(this.o.blobs, req.digest, offset, length);
      if (!bytes) return await fail('NOT_FOUND');
      await this.answer(id, { v: 1, cid: req.cid, digest: req.digest, ok: true, total: stat.bytes, offset }, bytes);
      this.o.onServed?.(bytes.length);
    } catch (err) {
      this.o.log.error('chunk request failed', { device: id, digest: req.digest, err: String(err) });
      await fail('INTERNAL').catch(() => undefined);
    }
  }

  private async answer(id: string, header: ChunkResponseHeader, bytes?: Uint8Array): Promise<void> {
    this.answered[header.ok ? 'ok' : (header.code as ChunkErrorCode)]++;
    await this.o.link.publish({ topic: deviceTopic(this.o.prefix, id, 'chunks/res'), payload: encodeChunkResponse(header, bytes), qos: 1 });
  }
}

async function readRange(blobs: BlobStore, digest: string, offset: number, length: number): Promise<Uint8Array | null> {
  const stream = blobs.stream(digest, { start: offset, end: offset + length - 1 });
  if (!stream) return null;
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

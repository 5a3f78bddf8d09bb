// Serves blobs to devices over MQTT [WIRE-2.7, 2.8]: request/response with correlation ids, a
// window of outstanding requests per device, a cap on concurrent transfers, BUSY beyond it.
import { ChunkRequest, decodeMessage, deviceTopic, encodeChunkResponse, parseDeviceTopic, type ChunkResponseHeader } from '@flotilla/firmware-bundler/wire/index';
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
    if (this.active >= this.o.maxConcurrentTransfers || mine >= this.o.window) {
      // Refusing costs no disk read, so an overloaded server stays responsive [WIRE-2.8].
      this.answer(id, { v: 1, cid: req.cid, digest: req.digest, ok: false, code: 'BUSY' }).catch(() => undefined);
      return;
    }
    this.active++;
    this.perDevice.set(id, mine + 1);
    const work = this.serve(id, req).finally(() => {
      this.active--;
      const n = (this.perDevice.get(id) ?? 1) - 1;
      if (n <= 0) this.perDevice.delete(id);
      else this.perDevice.set(id, n);
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

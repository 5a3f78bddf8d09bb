// BlobSource over MQTT [WIRE-2.7, 2.8]: chunks/req → chunks/res, paged by offset, at most `window` requests in flight.
import { concatBytes } from '@flotilla/firmware-bundler';
import { decodeChunkResponse, type ChunkResponseHeader } from '@flotilla/firmware-bundler/wire';
import { AgentError } from '../errors.ts';
import { backoffDelay, sleep, type BackoffOptions } from './backoff.ts';
import { oversizeError, type BlobSource } from './blob-source.ts';
import type { ServerLink } from './server-link.ts';

/** Options of {@link MqttBlobSource}. */
export interface MqttBlobSourceOptions {
  /** Most outstanding requests [WIRE-2.8]. Default 8. */
  window?: number;
  /** Bytes asked for per request; bigger blobs come in pages. Default 262144. */
  pageBytes?: number;
  /** How long to wait for one response before asking again, in ms. Default 15000. */
  timeoutMs?: number;
  /** Delay after BUSY or a timeout. Default 250 ms growing to 10 s. */
  backoff?: BackoffOptions;
}

type Response = { header: ChunkResponseHeader; bytes: Uint8Array };

class Retry extends Error {}

/** {@link BlobSource} on a {@link ServerLink}. */
export class MqttBlobSource implements BlobSource {
  private readonly pending = new Map<string, { resolve: (r: Response) => void; reject: (e: Error) => void }>();
  private readonly waiters: (() => void)[] = [];
  private inFlight = 0;
  private nextCid = 1;
  private readonly cidPrefix = Math.random().toString(36).slice(2, 8);

  constructor(
    private readonly link: ServerLink,
    private readonly o: MqttBlobSourceOptions = {},
  ) {
    link.on('chunks/res', (frame) => {
      const r = decodeChunkResponse(frame);
      if (!r) return; // [WIRE-2.1] invalid messages are dropped
      const p = this.pending.get(r.header.cid);
      if (!p) return; // a late answer to a request already retried
      this.pending.delete(r.header.cid);
      p.resolve(r);
    });
    link.onConnection((online) => {
      if (online) return;
      // Answers never come over a dead connection: retry those requests once reconnected.
      for (const [cid, p] of this.pending) {
        this.pending.delete(cid);
        p.reject(new Retry('connection lost'));
      }
    });
  }

  async fetch(digest: string, maxBytes: number, signal?: AbortSignal): Promise<Uint8Array> {
    await this.acquire(signal);
    try {
      const parts: Uint8Array[] = [];
      let offset = 0;
      let failures = 0;
      for (;;) {
        let r: Response;
        try {
          await this.untilOnline(signal);
          r = await this.request(digest, offset, Math.max(1, Math.min(this.o.pageBytes ?? 262_144, maxBytes - offset)), signal);
        } catch (err) {
          if (!(err instanceof Retry)) throw err;
          await sleep(backoffDelay(failures++, this.o.backoff ?? { minMs: 250, maxMs: 10_000 }), signal);
          continue;
        }
        if (!r.header.ok) {
          if (r.header.code === 'BUSY') {
            await sleep(backoffDelay(failures++, this.o.backoff ?? { minMs: 250, maxMs: 10_000 }), signal);
            continue;
          }
          throw new AgentError('AGENT_DOWNLOAD_FAILED', `server refused blob ${digest}: ${r.header.code ?? 'no code'}`);
        }
        if ((r.header.offset ?? 0) !== offset) continue;
        // The claimed total and the bytes actually sent are both held to the caller's bound.
        const claimed = Math.max(r.header.total ?? 0, offset + r.bytes.length);
        if (claimed > maxBytes) throw oversizeError(digest, claimed, maxBytes);
        failures = 0;
        parts.push(r.bytes.slice());
        offset += r.bytes.length;
        const total = r.header.total ?? offset;
        if (offset >= total || r.bytes.length === 0) return concatBytes(parts);
      }
    } finally {
      this.release();
    }
  }

  private request(digest: string, offset: number, length: number, signal?: AbortSignal): Promise<Response> {
    const cid = `${this.cidPrefix}-${this.nextCid++}`;
    return new Promise<Response>((resolve, reject) => {
      const timer = setTimeout(() => done(() => reject(new Retry('timeout'))), this.o.timeoutMs ?? 15_000);
      const onAbort = () => done(() => reject(signal!.reason));
      const done = (fn: () => void) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.pending.delete(cid);
        fn();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(cid, { resolve: (r) => done(() => resolve(r)), reject: (e) => done(() => reject(e)) });
      const req = { v: 1, cid, digest, offset, length };
      this.link.publish('chunks/req', JSON.stringify(req)).catch(() => done(() => reject(new Retry('publish failed'))));
    });
  }

  private untilOnline(signal?: AbortSignal): Promise<void> {
    if (this.link.online) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const off = this.link.onConnection((online) => {
        if (!online) return;
        off();
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
      const onAbort = () => {
        off();
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private async acquire(signal?: AbortSignal): Promise<void> {
    while (this.inFlight >= (this.o.window ?? 8)) {
      signal?.throwIfAborted();
      await new Promise<void>((r) => this.waiters.push(r));
    }
    this.inFlight++;
  }

  private release(): void {
    this.inFlight--;
    this.waiters.shift()?.();
  }
}

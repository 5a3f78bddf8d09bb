// BlobSource over HTTP [WIRE-3.1]: GET /api/v1/blobs/{sha256}, resuming a broken body with Range.
import { concatBytes } from '@flotilla/firmware-bundler';
import { AgentError } from '../errors.ts';
import { backoffDelay, sleep, type BackoffOptions } from './backoff.ts';
import { oversizeError, type BlobSource } from './blob-source.ts';

/** Options of {@link HttpBlobSource}. */
export interface HttpBlobSourceOptions {
  /** Server base URL, e.g. `http://127.0.0.1:8080`. */
  server: string;
  deviceId: string;
  /** The device token, or a function giving the current one (it rotates [WIRE-2.11]). */
  token: string | (() => string);
  /** Delay between attempts. Default 500 ms growing to 30 s. */
  backoff?: BackoffOptions;
  /** fetch implementation. Default the global one. */
  fetch?: typeof fetch;
}

/** {@link BlobSource} on the server's blob endpoint; a body cut short continues where it stopped. */
export class HttpBlobSource implements BlobSource {
  constructor(private readonly o: HttpBlobSourceOptions) {}

  async fetch(digest: string, maxBytes: number, signal?: AbortSignal): Promise<Uint8Array> {
    const url = `${this.o.server.replace(/\/+$/, '')}/api/v1/blobs/${digest}`;
    const parts: Uint8Array[] = [];
    let got = 0;
    let total: number | null = null;
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) await sleep(backoffDelay(attempt - 1, this.o.backoff ?? { minMs: 500, maxMs: 30_000 }), signal);
      let res: Response;
      try {
        res = await (this.o.fetch ?? fetch)(url, {
          headers: {
            authorization: `Bearer ${this.o.deviceId}:${typeof this.o.token === 'function' ? this.o.token() : this.o.token}`,
            ...(got > 0 ? { range: `bytes=${got}-` } : {}),
          },
          signal,
        });
      } catch (err) {
        if (signal?.aborted) throw signal.reason;
        void err;
        continue;
      }
      if (res.status === 401 || res.status === 403 || res.status === 404 || res.status === 416) {
        await res.body?.cancel();
        throw new AgentError('AGENT_DOWNLOAD_FAILED', `server refused blob ${digest}: HTTP ${res.status}`);
      }
      if (res.status !== 200 && res.status !== 206) {
        await res.body?.cancel();
        continue;
      }
      const range = /^bytes (\d+)-\d+\/(\d+)$/.exec(res.headers.get('content-range') ?? '');
      if (res.status === 206 && range && Number(range[1]) === got) {
        total = Number(range[2]);
      } else {
        // The server sent the whole blob (no Range support, or ours was ignored): start over.
        parts.length = 0;
        got = 0;
        const len = res.headers.get('content-length');
        total = len !== null ? Number(len) : null;
      }
      if (total !== null && total > maxBytes) {
        await res.body?.cancel();
        throw oversizeError(digest, total, maxBytes);
      }
      try {
        const reader = res.body!.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          // A body longer than it said (or than allowed, with no length given) stops here, not in memory.
          if (got + value.length > maxBytes) {
            await reader.cancel();
            throw oversizeError(digest, got + value.length, maxBytes);
          }
          parts.push(value);
          got += value.length;
        }
      } catch (err) {
        if (err instanceof AgentError) throw err;
        if (signal?.aborted) throw signal.reason;
        continue; // body broke off: resume from `got`
      }
      if (total === null || got >= total) return concatBytes(parts);
    }
  }
}

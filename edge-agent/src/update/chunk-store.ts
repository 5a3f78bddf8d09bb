// Downloaded blobs (chunks and envelopes) by SHA-256, checked on the way in and on the way out.
import type { Sha256Hex } from '@flotilla/firmware-bundler';
import type { AgentStorage } from '../storage/agent-storage.ts';

const PREFIX = 'chunks/';

/** Content-addressed blobs in {@link AgentStorage} under `chunks/<sha256>`. */
export class ChunkStore {
  constructor(
    private readonly storage: AgentStorage,
    private readonly hash: Sha256Hex,
  ) {}

  /** Digests held now (read once per plan, so `has` stays synchronous for planFetch). */
  async digests(): Promise<Set<string>> {
    return new Set((await this.storage.list(PREFIX)).map((k) => k.slice(PREFIX.length)));
  }

  /** The blob, or null when absent or damaged on disk (a damaged one is deleted so it is fetched again). */
  async get(digest: string): Promise<Uint8Array | null> {
    const bytes = await this.storage.read(PREFIX + digest);
    if (!bytes) return null;
    if (this.hash(bytes) !== digest) {
      await this.storage.delete(PREFIX + digest);
      return null;
    }
    return bytes;
  }

  /** Stores bytes the caller has verified against `digest`. */
  put(digest: string, bytes: Uint8Array): Promise<void> {
    return this.storage.write(PREFIX + digest, bytes);
  }

  /** Deletes every blob except those in `keep`. */
  async prune(keep: ReadonlySet<string> = new Set()): Promise<number> {
    let n = 0;
    for (const key of await this.storage.list(PREFIX)) {
      if (keep.has(key.slice(PREFIX.length))) continue;
      await this.storage.delete(key);
      n++;
    }
    return n;
  }
}

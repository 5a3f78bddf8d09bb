// The AgentStorage seam: a small key → bytes store whose writes are atomic, on disk or in IndexedDB.

/**
 * Where the agent keeps its state, model slots, downloaded chunks and telemetry queue.
 * Keys are `/`-separated paths of `[A-Za-z0-9._-]` segments (e.g. `slots/a/model.onnx`).
 *
 * Contract (tested by `storage-contract.ts` against every implementation):
 * - `write` is atomic and durable when it resolves: after a power cut a reader sees the old bytes or
 *   the new bytes, never a mix, and never loses a write that resolved.
 * - `read` of a missing key gives null; `delete` of a missing key is not an error.
 * - `list(prefix)` gives the keys that start with `prefix`, sorted.
 */
export interface AgentStorage {
  read(key: string): Promise<Uint8Array | null>;
  write(key: string, bytes: Uint8Array): Promise<void>;
  delete(key: string): Promise<void>;
  list(prefix: string): Promise<string[]>;
  /** Free bytes where the data lives, or null when unknown. */
  freeBytes(): Promise<number | null>;
  /** Releases handles; the storage is unusable afterwards. */
  close(): Promise<void>;
}

const KEY_RE = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

/** Throws unless `key` is a safe storage key (no `..`, no absolute paths, no empty segments). */
export function assertKey(key: string): void {
  if (!KEY_RE.test(key) || key.split('/').some((s) => s === '.' || s === '..'))
    throw new TypeError(`invalid storage key ${JSON.stringify(key)}`);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Reads a JSON value; null when the key is missing or holds something that is not JSON. */
export async function readJson<T>(storage: AgentStorage, key: string): Promise<T | null> {
  const bytes = await storage.read(key);
  if (!bytes) return null;
  try {
    return JSON.parse(decoder.decode(bytes)) as T;
  } catch {
    return null;
  }
}

/** Writes a JSON value atomically. */
export function writeJson(storage: AgentStorage, key: string, value: unknown): Promise<void> {
  return storage.write(key, encoder.encode(JSON.stringify(value)));
}

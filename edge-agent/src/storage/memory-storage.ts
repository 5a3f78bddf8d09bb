// An AgentStorage in memory: for blobs that must not outlive the process (a shadow bundle's chunks).
import { assertKey, type AgentStorage } from './agent-storage.ts';

/** Keys → bytes in a Map. Nothing is durable; `freeBytes` is unknown. */
export class MemoryStorage implements AgentStorage {
  private readonly data = new Map<string, Uint8Array>();

  async read(key: string): Promise<Uint8Array | null> {
    assertKey(key);
    return this.data.get(key) ?? null;
  }

  async write(key: string, bytes: Uint8Array): Promise<void> {
    assertKey(key);
    this.data.set(key, bytes.slice());
  }

  async delete(key: string): Promise<void> {
    this.data.delete(key);
  }

  async list(prefix: string): Promise<string[]> {
    return [...this.data.keys()].filter((k) => k.startsWith(prefix)).sort();
  }

  async freeBytes(): Promise<number | null> {
    return null;
  }

  async close(): Promise<void> {
    this.data.clear();
  }
}

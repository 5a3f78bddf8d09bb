// AgentStorage in IndexedDB for browsers: one object store, each write its own (atomic) transaction.
import { AgentError } from '../errors.ts';
import { assertKey, type AgentStorage } from './agent-storage.ts';

const STORE = 'files';

/** {@link AgentStorage} in the IndexedDB database `name` (one per device id is a good choice). */
export class IndexedDbStorage implements AgentStorage {
  private constructor(private readonly db: IDBDatabase) {}

  /** Opens (creating) the database `name` with `factory` (default: the page's `indexedDB`). */
  static open(name: string, factory: IDBFactory = globalThis.indexedDB): Promise<IndexedDbStorage> {
    return new Promise((resolve, reject) => {
      const req = factory.open(name, 1);
      req.onupgradeneeded = () => {
        if (!req.result.objectStoreNames.contains(STORE)) req.result.createObjectStore(STORE);
      };
      req.onsuccess = () => resolve(new IndexedDbStorage(req.result));
      req.onerror = () => reject(storageError('open', name, req.error));
    });
  }

  read(key: string): Promise<Uint8Array | null> {
    assertKey(key);
    return this.run('readonly', 'read', key, (s) => s.get(key)).then((v) =>
      v instanceof Uint8Array ? v : v instanceof ArrayBuffer ? new Uint8Array(v) : null,
    );
  }

  async write(key: string, bytes: Uint8Array): Promise<void> {
    assertKey(key);
    // A copy, so a caller reusing its buffer cannot change what was stored.
    await this.run('readwrite', 'write', key, (s) => s.put(bytes.slice(), key));
  }

  async delete(key: string): Promise<void> {
    assertKey(key);
    await this.run('readwrite', 'delete', key, (s) => s.delete(key));
  }

  async list(prefix: string): Promise<string[]> {
    // Keys sort as strings; '\uffff' closes the range just past every key that starts with prefix.
    const range = prefix ? IDBKeyRange.bound(prefix, `${prefix}\uffff`) : undefined;
    const keys = await this.run('readonly', 'list', prefix, (s) => s.getAllKeys(range));
    return (keys as IDBValidKey[])
      .map(String)
      .filter((k) => k.startsWith(prefix))
      .sort();
  }

  async freeBytes(): Promise<number | null> {
    const est = await globalThis.navigator?.storage?.estimate?.().catch(() => undefined);
    return est?.quota !== undefined && est.usage !== undefined ? Math.max(0, est.quota - est.usage) : null;
  }

  async close(): Promise<void> {
    this.db.close();
  }

  private run<T>(mode: IDBTransactionMode, op: string, key: string, fn: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
    return new Promise((resolve, reject) => {
      const tx = this.db.transaction(STORE, mode, { durability: 'strict' });
      const req = fn(tx.objectStore(STORE));
      // Resolve on commit, not on request success: only a committed transaction survives a crash.
      tx.oncomplete = () => resolve(req.result);
      tx.onerror = () => reject(storageError(op, key, tx.error));
      tx.onabort = () => reject(storageError(op, key, tx.error));
    });
  }
}

function storageError(op: string, key: string, err: unknown): AgentError {
  return new AgentError('AGENT_STORAGE_FAILED', `IndexedDB ${op} of ${key} failed: ${(err as Error)?.message ?? err}`, { cause: err });
}

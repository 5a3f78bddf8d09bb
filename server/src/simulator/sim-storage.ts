// AgentStorage for simulated devices: FileStorage's folder layout and atomic renames, without fsync and thread hops.
import { mkdirSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AgentError, assertKey, FileStorage, type AgentStorage } from '@flotilla/edge-agent';

const code = (err: unknown) => (err as NodeJS.ErrnoException)?.code;

/**
 * One simulated device's data folder, in FileStorage's layout (listing is FileStorage's own). Writes
 * keep its write-temp-then-rename, so a simulated crash (an agent stopped mid-write) sees old or new
 * bytes, never a torn file. Two things differ, both because 1,000 devices share one host here:
 * - no fsync of the file and its folder: they guard against the host losing power, which the
 *   simulator cannot do to one device, and on one disk they queue every device behind every other;
 * - reads and writes are synchronous: they only touch the page cache, and done inline they cost a
 *   fraction of four libuv thread-pool round trips plus promise bookkeeping per file.
 * Real devices keep FileStorage (fsync'd, asynchronous); this is the simulator's adapter only.
 */
export class SimStorage implements AgentStorage {
  private serial = 0;

  private constructor(private readonly files: FileStorage) {}

  /** Opens (creating) `root`; temp files a crash left behind are removed, as FileStorage does. */
  static async open(root: string): Promise<SimStorage> {
    return new SimStorage(await FileStorage.open(root));
  }

  async read(key: string): Promise<Uint8Array | null> {
    try {
      const buf = readFileSync(this.path(key));
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    } catch (err) {
      if (code(err) === 'ENOENT') return null;
      throw failed('read', key, err);
    }
  }

  async write(key: string, bytes: Uint8Array): Promise<void> {
    const target = this.path(key);
    // '~tmp' is FileStorage's temp mark: outside the key alphabet, so open() removes leftovers.
    const temp = `${target}~tmp${(this.serial++).toString(36)}`;
    try {
      try {
        writeFileSync(temp, bytes);
      } catch (err) {
        // The folder usually exists: make it only when the write says it does not.
        if (code(err) !== 'ENOENT') throw err;
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(temp, bytes);
      }
      renameSync(temp, target);
    } catch (err) {
      rmSync(temp, { force: true });
      throw failed('write', key, err);
    }
  }

  async delete(key: string): Promise<void> {
    try {
      unlinkSync(this.path(key));
    } catch (err) {
      if (code(err) !== 'ENOENT') throw failed('delete', key, err);
    }
  }

  list(prefix: string): Promise<string[]> {
    return this.files.list(prefix);
  }

  freeBytes(): Promise<number | null> {
    return this.files.freeBytes();
  }

  close(): Promise<void> {
    return this.files.close();
  }

  private path(key: string): string {
    assertKey(key);
    return join(this.files.root, ...key.split('/'));
  }
}

function failed(op: string, key: string, err: unknown): AgentError {
  return new AgentError('AGENT_STORAGE_FAILED', `storage ${op} of ${key} failed: ${(err as Error)?.message ?? err}`, { cause: err });
}

// AgentStorage on a folder: write-temp, fsync, rename, fsync the folder, so a power cut never tears a file.
import { mkdir, readdir, readFile, rm, statfs } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { writeFileAtomic } from '@flotilla/firmware-bundler/node';
import { AgentError } from '../errors.ts';
import { assertKey, type AgentStorage } from './agent-storage.ts';

// '~' is outside the key alphabet, so a temp file left by a crash can never be mistaken for a key.
const TEMP_MARK = '~tmp';

/** {@link AgentStorage} in the folder `root`, one file per key. */
export class FileStorage implements AgentStorage {
  private constructor(readonly root: string) {}

  /** Opens (creating) `root` and removes temp files a crash left behind. */
  static async open(root: string): Promise<FileStorage> {
    await mkdir(root, { recursive: true });
    const storage = new FileStorage(root);
    for (const file of await walk(root)) if (file.includes(TEMP_MARK)) await rm(file, { force: true });
    return storage;
  }

  async read(key: string): Promise<Uint8Array | null> {
    assertKey(key);
    try {
      const buf = await readFile(this.path(key));
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    } catch (err) {
      if (isNotFound(err)) return null;
      throw storageError('read', key, err);
    }
  }

  async write(key: string, bytes: Uint8Array): Promise<void> {
    assertKey(key);
    const target = this.path(key);
    const temp = `${target}${TEMP_MARK}${Math.random().toString(36).slice(2, 8)}`;
    try {
      await mkdir(dirname(target), { recursive: true, mode: 0o700 });
      // Owner only: the folder holds the device's private key and tokens (identity/).
      await writeFileAtomic(target, bytes, { temp, mode: 0o600 });
    } catch (err) {
      throw storageError('write', key, err);
    }
  }

  async delete(key: string): Promise<void> {
    assertKey(key);
    try {
      await rm(this.path(key), { force: true });
    } catch (err) {
      throw storageError('delete', key, err);
    }
  }

  async list(prefix: string): Promise<string[]> {
    // Walk only the folder the prefix names, so listing chunks never scans the slots.
    const slash = prefix.lastIndexOf('/');
    const base = slash < 0 ? this.root : join(this.root, prefix.slice(0, slash));
    const keys = (await walk(base))
      .filter((f) => !f.includes(TEMP_MARK))
      .map((f) => relative(this.root, f).split(sep).join('/'))
      .filter((k) => k.startsWith(prefix));
    return keys.sort();
  }

  async freeBytes(): Promise<number | null> {
    try {
      const s = await statfs(this.root);
      return s.bavail * s.bsize;
    } catch {
      return null;
    }
  }

  async close(): Promise<void> {}

  private path(key: string): string {
    return join(this.root, ...key.split('/'));
  }
}

async function walk(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (isNotFound(err)) return [];
    throw err;
  }
  const out: string[] = [];
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

const isNotFound = (err: unknown) => (err as NodeJS.ErrnoException)?.code === 'ENOENT';

function storageError(op: string, key: string, err: unknown): AgentError {
  return new AgentError('AGENT_STORAGE_FAILED', `storage ${op} of ${key} failed: ${(err as Error)?.message ?? err}`, { cause: err });
}

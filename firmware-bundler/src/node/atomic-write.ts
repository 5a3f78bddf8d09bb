// Writing one file so that a crash or power cut leaves the old contents or the new, never a torn file:
// temp file, fsync, rename over the target, fsync the folder. Shared by bundle unpacking, the agent's
// file storage and the server's key ring, which differ only in how they name the temp file and its mode.
import { open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

/** How {@link writeFileAtomic} writes. */
export interface AtomicWriteOptions {
  /**
   * The temp file, in the target's folder (a rename across folders is not atomic). Callers name it so that
   * their own clean-up after a crash recognises it, or so that it is reused rather than left behind.
   */
  temp: string;
  /** Permission bits of a newly created file. Default 0o600 (owner only). */
  mode?: number;
  /**
   * Create the temp file with O_EXCL: a file or link already at its name is refused (EEXIST) instead of
   * followed or truncated. Default false (an existing temp file, left by a crash, is truncated).
   */
  exclusive?: boolean;
}

/**
 * Writes `data` to `target` through `o.temp`. Throws what the file system threw; a temp file this call
 * created is removed on failure (one it could not open is not touched: it is not ours).
 */
export async function writeFileAtomic(target: string, data: Uint8Array | string, o: AtomicWriteOptions): Promise<void> {
  const handle = await open(o.temp, o.exclusive ? 'wx' : 'w', o.mode ?? 0o600);
  try {
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(o.temp, target);
  } catch (err) {
    await rm(o.temp, { force: true }).catch(() => undefined);
    throw err;
  }
  await syncFolder(dirname(target));
}

/** Makes a rename in `dir` survive a power cut. Best effort: some platforms and file systems refuse fsync on folders. */
async function syncFolder(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    /* not supported here */
  }
}

// Whether the data folder can take writes: readiness must fail on a full or read-only disk, where every
// upload, run and telemetry window would fail, instead of answering ok because the store still reads.
import { closeSync, fsyncSync, openSync, statfsSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** Free bytes below which the server reports not ready (env FLOTILLA_READY_MIN_FREE_BYTES, default 64 MiB). */
export function minFreeBytes(env: string | undefined = process.env.FLOTILLA_READY_MIN_FREE_BYTES): number {
  const n = Number(env);
  return env !== undefined && env !== '' && Number.isFinite(n) && n >= 0 ? n : 64 * 1024 * 1024;
}

export type StorageCheck = { ok: true; freeBytes: number } | { ok: false; code: 'STORAGE_FULL' | 'STORAGE_UNWRITABLE'; message: string };

/** Checks free space under `dir`, then writes, syncs and removes a small probe file there. */
export function checkStorage(dir: string, minFree = minFreeBytes()): StorageCheck {
  let freeBytes: number;
  try {
    const s = statfsSync(dir);
    freeBytes = s.bavail * s.bsize;
  } catch (e) {
    return { ok: false, code: 'STORAGE_UNWRITABLE', message: `cannot inspect the data folder: ${(e as Error).message}` };
  }
  if (freeBytes < minFree) {
    return {
      ok: false,
      code: 'STORAGE_FULL',
      message: `the data folder has ${freeBytes} bytes free, below the ${minFree} needed (FLOTILLA_READY_MIN_FREE_BYTES): free space`,
    };
  }
  const probe = join(dir, `.ready-probe-${process.pid}`);
  try {
    const fd = openSync(probe, 'w', 0o600);
    try {
      writeSync(fd, 'ok');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    unlinkSync(probe);
  } catch (e) {
    return { ok: false, code: 'STORAGE_UNWRITABLE', message: `the data folder cannot be written: ${(e as Error).message}` };
  }
  return { ok: true, freeBytes };
}

// Reading and writing bundle files on disk, with the size limit checked before reading (SPEC §8.1).
import { open, rename, stat, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { BundleError } from '../errors.ts';
import { DEFAULT_LIMITS, type BundleLimits } from '../limits.ts';
import { CHUNK_ENTRY_BYTES, HEADER_BYTES, SIGNATURE_ENTRY_BYTES } from '../container/layout.ts';

/** The largest container `limits` allow, in bytes: the cap on what {@link readBundleFile} reads. */
export function maxBundleBytes(limits: BundleLimits = DEFAULT_LIMITS): number {
  return (
    HEADER_BYTES +
    limits.maxManifestBytes +
    limits.maxSignatures * SIGNATURE_ENTRY_BYTES +
    limits.maxChunks * CHUNK_ENTRY_BYTES +
    limits.maxTotalBytes
  );
}

/** Reads a bundle file, refusing (`BUNDLE_TOO_LARGE`) one larger than any valid bundle before reading it. */
export async function readBundleFile(file: string, limits: BundleLimits = DEFAULT_LIMITS): Promise<Uint8Array> {
  const { size } = await stat(file);
  const max = maxBundleBytes(limits);
  if (size > max) throw new BundleError('BUNDLE_TOO_LARGE', `${file} is ${size} bytes, no valid bundle exceeds ${max}`, 'SPEC §8.1');
  const handle = await open(file, 'r');
  try {
    const buf = await handle.readFile();
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } finally {
    await handle.close();
  }
}

/** Writes a bundle file atomically (temporary file, then rename). */
export async function writeBundleFile(file: string, bytes: Uint8Array): Promise<void> {
  const temp = `${file}.${randomBytes(6).toString('hex')}.part`;
  await writeFile(temp, bytes, { flag: 'wx' });
  await rename(temp, file);
}

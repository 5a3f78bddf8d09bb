// Putting a local bundle file's blobs in the chunk store, so the update flow installs it like a download.
import { parseBundle, parseManifest, verifyChunk, type Sha256Hex } from '@flotilla/firmware-bundler';
import { encodeEnvelope } from '@flotilla/firmware-bundler/wire';
import type { ChunkStore } from '../update/chunk-store.ts';
import type { UpdateTarget } from '../update/update-record.ts';
import type { ModelInfo } from '../model/active-model.ts';

/** What `agent.install` did. */
export interface InstallResult {
  /** Whether the bundle now serves. */
  ok: boolean;
  /** The serving model afterwards. */
  model: ModelInfo | null;
  /** `installed`, or the stable code and message of why not (e.g. `BUNDLE_KEY_UNTRUSTED: …`). */
  reason: string;
}

/**
 * Reads a bundle container (framing and chunk hashes only: the update flow checks the signature,
 * policy and files), stores its chunks and envelope, and returns the target to install.
 */
export async function prepareSideload(bytes: Uint8Array, store: ChunkStore, hash: Sha256Hex): Promise<UpdateTarget> {
  const parsed = parseBundle(bytes);
  const manifest = parseManifest(parsed.manifestBytes);
  const envelope = encodeEnvelope(parsed.manifestBytes, parsed.signatures);
  const envelopeDigest = hash(envelope);
  for (const c of parsed.chunks) {
    verifyChunk({ digest: c.digest, length: c.bytes.length }, c.bytes, hash);
    await store.put(c.digest, c.bytes.slice());
  }
  await store.put(envelopeDigest, envelope);
  return {
    // The bundle file's digest: what the server calls a bundle's id [WIRE-3.1].
    id: hash(bytes),
    model: manifest.model.name,
    version: manifest.model.version,
    sequence: manifest.model.sequence,
    manifestDigest: envelopeDigest,
    bytes: bytes.length,
    source: 'sideload',
  };
}

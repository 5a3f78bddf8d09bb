// Fetching and verifying a shadow bundle along the update path, into memory: never a slot, never served.
import { assembleFileAsync, planFetch } from '@flotilla/firmware-bundler';
import type { BundleRef } from '@flotilla/firmware-bundler/wire';
import { decodeEnvelope } from '@flotilla/firmware-bundler/wire';
import { retire, loadActiveModel, type ActiveModel } from '../model/active-model.ts';
import { AgentError } from '../errors.ts';
import type { InferenceRuntime } from '../runtime/inference-runtime.ts';
import { MemoryStorage } from '../storage/memory-storage.ts';
import type { BlobSource } from '../transport/blob-source.ts';
import { ChunkStore } from '../update/chunk-store.ts';
import { downloadChunks, fetchBlob } from '../update/downloader.ts';
import { probeModel } from '../model/self-test.ts';
import { heldChunks } from '../update/slots.ts';
import type { InstalledModel } from '../model/installed-model.ts';
import type { UpdateRecord } from '../update/update-record.ts';
import { verifyTarget, type DevicePolicy } from '../update/verifier.ts';

/** What loading a shadow needs from the agent. */
export interface ShadowLoaderDeps extends DevicePolicy {
  source: BlobSource | null;
  runtime: InferenceRuntime;
  /** Anti-rollback state: a shadow the device would refuse to install is refused as a shadow too. */
  record: () => Pick<UpdateRecord, 'highSequence' | 'history'>;
  /** The verified serving slot, whose chunks need not be fetched again (null: none). */
  serving: () => Promise<InstalledModel | null>;
  probeBudgetMs: number;
  onChunkRejected?: (digest: string, reason: string) => void;
}

/**
 * Loads the shadow bundle `ref` into its own session: the envelope checked by {@link verifyTarget}
 * (digest, signature, expiry, sequence, runtime fit, identity), each chunk by its digest, each file by
 * its hash, then the manifest's self-tests. Chunks live in memory only: the update flow prunes the
 * chunk store when it commits, and a shadow must neither lose its chunks to it nor keep any on disk.
 */
export async function loadShadow(ref: BundleRef, d: ShadowLoaderDeps, signal: AbortSignal): Promise<ActiveModel> {
  if (!d.source) throw new AgentError('AGENT_DOWNLOAD_FAILED', 'no server to fetch the shadow bundle from');
  const envelope = await fetchBlob(ref.manifestDigest, d.source, d.hash, { signal, onRejected: d.onChunkRejected });
  // Never an operator rollback: a shadow must be newer than every model this device committed.
  const { manifest } = verifyTarget(envelope, { ...ref, rollback: false, source: 'server' }, d.record(), d);
  const held = heldChunks(await d.serving());
  const chunks = new ChunkStore(new MemoryStorage(), d.hash);
  const plan = planFetch(manifest, (c) => held.has(c));
  await downloadChunks(plan.toFetch, d.source, chunks, d.hash, { signal, onRejected: d.onChunkRejected });
  const files = new Map<string, Uint8Array>();
  for (const file of manifest.files) {
    files.set(file.path, await assembleFileAsync(file, async (c) => (await chunks.get(c)) ?? held.get(c), { sha256: d.hash }));
  }
  signal.throwIfAborted();
  const manifestBytes = decodeEnvelope(envelope)!.manifestBytes;
  // `slot` is nominal: the shadow lives in memory only and no slot pointer ever names it.
  const installed: InstalledModel = {
    slot: 'a',
    envelopeDigest: ref.manifestDigest,
    manifestDigest: d.hash(manifestBytes),
    manifest,
    files,
  };
  const model = await loadActiveModel(installed, d.runtime);
  try {
    await probeModel(model.session, manifest, d.probeBudgetMs);
    signal.throwIfAborted();
    return model;
  } catch (err) {
    retire(model);
    throw err;
  }
}

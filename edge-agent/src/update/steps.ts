// The step of each deployment state: it acts, then reports an event and a reason; the table picks what follows.
import { assembleFileAsync, planFetch, type Sha256Hex } from '@flotilla/firmware-bundler';
import type { DeployState } from '@flotilla/firmware-bundler/wire';
import { AgentError, describeError } from '../errors.ts';
import { retire } from '../model/active-model.ts';
import type { ModelHost } from '../model/model-host.ts';
import type { BlobSource } from '../transport/blob-source.ts';
import type { ChunkStore } from './chunk-store.ts';
import { downloadChunks, fetchBlob } from './downloader.ts';
import { probeModel } from '../model/self-test.ts';
import {
  clearSlot,
  heldChunks,
  otherSlot,
  readPointer,
  readSlot,
  sealSlot,
  servingSlot,
  tryReadSlot,
  writePointer,
  writeSlotFile,
} from './slots.ts';
import type { AgentStorage } from '../storage/agent-storage.ts';
import { HISTORY_LIMIT, targetKey, type UpdateRecord, type UpdateTarget } from './update-record.ts';
import { verifyTarget, type DevicePolicy } from './verifier.ts';
import type { UpdateEvent } from './transitions.ts';
import type { GatePhase, UpdateGate } from './update-gate.ts';
import type { UpdateProgress } from '@flotilla/firmware-bundler/wire';

/** What a step reports: an event for the table, a reason for the server, and record fields to save with the next state. */
export interface StepOutcome {
  event: Extract<UpdateEvent, 'success' | 'failure' | 'cancel' | 'wait'>;
  reason: string;
  patch?: Partial<UpdateRecord>;
}

/** A state's step. It must be idempotent: after a crash it runs again from its start. */
export type StepHandler = (record: UpdateRecord, signal: AbortSignal) => Promise<StepOutcome>;

/** Everything the steps act on. */
export interface StepDeps extends DevicePolicy {
  storage: AgentStorage;
  chunks: ChunkStore;
  /** Where missing blobs come from; null when the agent has no server (sideload only). */
  source: BlobSource | null;
  host: ModelHost;
  /** Time budget of a probe (load + self-tests), in ms. */
  probeBudgetMs: number;
  onChunkRejected?: (digest: string, reason: string) => void;
  /** Update control [WIRE-2.2.2]: what a download and an activation wait on. */
  gate: UpdateGate;
  /** Download progress of the bundle being fetched [WIRE-2.3.1]. */
  onProgress?: (bundleId: string, p: UpdateProgress) => void;
}

const ok = (reason: string, patch?: Partial<UpdateRecord>): StepOutcome => ({ event: 'success', reason, patch });

/** The step handlers of every state but idle, built on `d`. */
export function createSteps(d: StepDeps): Record<Exclude<DeployState, 'idle'>, StepHandler> {
  const hash: Sha256Hex = d.hash;
  const targetOf = (r: UpdateRecord): UpdateTarget => {
    if (!r.target) throw new AgentError('AGENT_STORAGE_FAILED', `state ${r.state} has no target bundle`);
    return r.target;
  };
  const serving = async () => tryReadSlot(d.storage, servingSlot(await readPointer(d.storage)), d.trusted, hash);
  const envelopeOf = async (t: UpdateTarget) => {
    const env = await d.chunks.get(t.manifestDigest);
    if (!env) throw new AgentError('AGENT_DOWNLOAD_FAILED', `envelope ${t.manifestDigest} is not held`);
    return env;
  };

  /**
   * A waiting state's step: returns `success` once the gate lets the update go on, `wait` when it now
   * waits on something else (a new status event says what), and otherwise sleeps until the next change.
   */
  const waitFor = async (phase: GatePhase, r: UpdateRecord, signal: AbortSignal): Promise<StepOutcome> => {
    for (;;) {
      const w = await d.gate.check(phase, r.waiting);
      if (!w) {
        const overdue = r.waiting?.kind === 'lock' && d.gate.lockReasons.length > 0;
        return ok(
          overdue
            ? 'the update lock was held past the maximum hold the policy allows: going on anyway'
            : `the ${r.waiting?.kind ?? 'wait'} no longer holds the update back`,
        );
      }
      if (w.kind !== r.waiting?.kind || w.reason !== r.waiting.reason) return { event: 'wait', reason: w.reason, patch: { waiting: w } };
      await d.gate.changed(signal);
    }
  };

  return {
    waiting_download: (r, signal) => waitFor('download', r, signal),
    waiting_activation: (r, signal) => waitFor('activation', r, signal),

    // Envelope first and verified before any chunk is fetched: an untrusted, expired or older bundle costs one small download.
    async downloading(r, signal) {
      const t = targetOf(r);
      const gated = await d.gate.check('download', null);
      if (gated) return { event: 'wait', reason: gated.reason, patch: { waiting: gated } };
      let envelope = await d.chunks.get(t.manifestDigest);
      if (!envelope) {
        if (!d.source) throw new AgentError('AGENT_DOWNLOAD_FAILED', 'no server to fetch the envelope from');
        envelope = await fetchBlob(t.manifestDigest, d.source, hash, { signal, onRejected: d.onChunkRejected });
        await d.chunks.put(t.manifestDigest, envelope);
      }
      const { manifest } = verifyTarget(envelope, t, r, d);
      const held = heldChunks(await serving());
      const stored = await d.chunks.digests();
      const plan = planFetch(manifest, (c) => stored.has(c) || held.has(c));
      if (plan.chunksToFetch > 0 && !d.source)
        throw new AgentError('AGENT_DOWNLOAD_FAILED', `${plan.chunksToFetch} chunks missing and no server to fetch them from`);
      const totalBytes = plan.toFetch.reduce((n, c) => n + c.length, 0);
      const progress = (done: { fetched: number; bytes: number }) =>
        d.onProgress?.(t.id, { bytes: done.bytes, totalBytes, chunks: done.fetched, totalChunks: plan.toFetch.length });
      progress({ fetched: 0, bytes: 0 });
      const got =
        plan.chunksToFetch > 0
          ? await downloadChunks(plan.toFetch, d.source!, d.chunks, hash, { signal, onRejected: d.onChunkRejected, onProgress: progress })
          : { fetched: 0, bytes: 0, rejected: 0 };
      return ok(
        `fetched ${got.fetched} of ${plan.chunksTotal} chunks (${got.bytes} bytes), reused ${plan.chunksReused}, rejected and refetched ${got.rejected}`,
      );
    },

    // Everything again, from what is on this device now: signature, expiry (time has passed), every chunk and file hash.
    async verifying(r) {
      const t = targetOf(r);
      const { manifest, keyIds } = verifyTarget(await envelopeOf(t), t, r, d);
      const held = heldChunks(await serving());
      // Chunks from the store are hashed as they are read (and held ones come from a verified file), so
      // assembling checks lengths and each file's SHA-256 without hashing every chunk a second time.
      for (const file of manifest.files) {
        await assembleFileAsync(file, async (c) => (await d.chunks.get(c)) ?? held.get(c), { sha256: hash, chunksVerified: true });
      }
      return ok(
        `${manifest.model.name} ${manifest.model.version} #${manifest.model.sequence} signed by ${keyIds.join(', ')}; ${manifest.files.length} file(s) verified`,
      );
    },

    // Into the slot that does not serve; files first, envelope last, then read back and verified as a loader would.
    async staging(r) {
      const t = targetOf(r);
      const pointer = await readPointer(d.storage);
      const previous = servingSlot(pointer);
      const slot = otherSlot(previous);
      const envelope = await envelopeOf(t);
      const { manifest } = verifyTarget(envelope, t, r, d);
      const held = heldChunks(await tryReadSlot(d.storage, previous, d.trusted, hash));
      await clearSlot(d.storage, slot);
      if (pointer.fallback === slot) await writePointer(d.storage, { ...pointer, fallback: null });
      for (const file of manifest.files) {
        const bytes = await assembleFileAsync(file, async (c) => (await d.chunks.get(c)) ?? held.get(c), {
          sha256: hash,
          chunksVerified: true,
        });
        await writeSlotFile(d.storage, slot, file.path, bytes);
      }
      await sealSlot(d.storage, slot, envelope);
      await readSlot(d.storage, slot, d.trusted, hash);
      // Download now, activate later: a closed window, a held lock or an unmet condition waits with the old model serving.
      const gated = await d.gate.check('activation', null);
      if (gated) return { event: 'wait', reason: `staged in slot ${slot}; ${gated.reason}`, patch: { slot, previous, waiting: gated } };
      return ok(`staged in slot ${slot}`, { slot, previous });
    },

    // The atomic pointer swap. `trial` keeps the old model serving until the probe passes.
    async activating(r) {
      if (!r.slot) throw new AgentError('AGENT_STORAGE_FAILED', 'activating without a staged slot');
      await writePointer(d.storage, { current: r.slot, fallback: r.previous, trial: true });
      return ok(`slot pointer → ${r.slot} (trial; ${r.previous ?? 'no model'} serves until the probe passes)`);
    },

    // Load beside the serving model, run the self-tests; only a passing model is swapped in.
    async probing(r) {
      const installed = await readSlot(d.storage, r.slot!, d.trusted, hash);
      const t0 = performance.now();
      const candidate = await d.host.load(installed);
      try {
        // Choosing a provider (a GPU's shader compilation) has its own budget: the probe's is the model's.
        const left = Math.max(1, d.probeBudgetMs - (performance.now() - t0 - (candidate.provider?.probeMs ?? 0)));
        const report = await probeModel(candidate.session, installed.manifest, left);
        d.host.swap(candidate);
        return ok(
          `${report.vectors} self-test vector(s) passed (max |error| ${report.maxAbsError.toExponential(2)}) in ${Math.round(performance.now() - t0)} ms`,
        );
      } catch (err) {
        retire(candidate);
        throw err;
      }
    },

    async committing(r) {
      const t = targetOf(r);
      await d.host.ensure(await readSlot(d.storage, r.slot!, d.trusted, hash));
      await writePointer(d.storage, { current: r.slot, fallback: r.previous, trial: false });
      await d.chunks.prune();
      const history = [
        ...r.history.filter((h) => h.manifestDigest !== t.manifestDigest),
        { manifestDigest: t.manifestDigest, id: t.id },
      ].slice(-HISTORY_LIMIT);
      return ok(`committed ${t.model} ${t.version} in slot ${r.slot}`, {
        highSequence: Math.max(r.highSequence, t.sequence),
        history,
        lastFailed: null,
        lastError: null,
      });
    },

    // Back to the model that served before, in storage and in memory.
    async rolling_back(r) {
      await writePointer(d.storage, { current: r.previous, fallback: null, trial: false });
      await d.host.ensure(await tryReadSlot(d.storage, r.previous, d.trusted, hash));
      return ok(
        `slot pointer → ${r.previous ?? 'none'}; ${d.host.current ? `${d.host.current.info.name} ${d.host.current.info.version}` : 'no model'} serves`,
      );
    },

    // Cleanup, idempotent: never leave a trial pointer, never keep a half-staged slot or stray chunks.
    async failed(r) {
      const pointer = await readPointer(d.storage);
      if (pointer.trial) {
        await writePointer(d.storage, { current: pointer.fallback, fallback: null, trial: false });
        await d.host.ensure(await tryReadSlot(d.storage, pointer.fallback, d.trusted, hash));
      }
      const now = await readPointer(d.storage);
      if (r.slot && r.slot !== now.current) {
        await clearSlot(d.storage, r.slot);
        if (now.fallback === r.slot) await writePointer(d.storage, { ...now, fallback: null });
      }
      await d.chunks.prune();
      const reason = r.failure ?? 'unknown failure';
      const judged = r.failureRetry ?? { permanent: true, attempts: 0, retryAt: null };
      return ok(`update ended: ${reason}`, {
        lastFailed: r.target ? { key: targetKey(r.target), manifestDigest: r.target.manifestDigest, reason, ...judged } : null,
        lastError: reason,
      });
    },
  };
}

/** A thrown error as a failure outcome. */
export function failureOf(err: unknown): StepOutcome {
  return { event: 'failure', reason: describeError(err) };
}

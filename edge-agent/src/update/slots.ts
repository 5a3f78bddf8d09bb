// The two model slots and the pointer that names the serving one; a slot counts only if it verifies end to end.
import { parseManifest, type BundleManifest, type Sha256Hex, type TrustedKeys } from '@flotilla/firmware-bundler';
import { decodeEnvelope } from '@flotilla/firmware-bundler/wire';
import { AgentError } from '../errors.ts';
import { checkSignaturesOnce } from './signature-memo.ts';
import { readJson, writeJson, type AgentStorage } from '../storage/agent-storage.ts';
import type { InstalledModel, SlotName } from '../model/installed-model.ts';

/**
 * Which slot serves. `trial`: `current` was activated but not yet committed, so until the probe
 * passes the agent serves `fallback` (the model that served before) [WIRE-4.1].
 */
export interface SlotPointer {
  current: SlotName | null;
  fallback: SlotName | null;
  trial: boolean;
}

export const POINTER_KEY = 'slots/pointer.json';
const envelopeKey = (slot: SlotName) => `slots/${slot}/envelope.json`;
const fileKey = (slot: SlotName, path: string) => `slots/${slot}/files/${path}`;

/** The other slot. */
export const otherSlot = (slot: SlotName | null): SlotName => (slot === 'a' ? 'b' : 'a');

export async function readPointer(storage: AgentStorage): Promise<SlotPointer> {
  const p = await readJson<SlotPointer>(storage, POINTER_KEY);
  const ok = (s: unknown): s is SlotName | null => s === 'a' || s === 'b' || s === null;
  if (!p || !ok(p.current) || !ok(p.fallback)) return { current: null, fallback: null, trial: false };
  return { current: p.current, fallback: p.fallback, trial: p.trial === true };
}

/** The atomic pointer swap: one atomic write of the pointer file. */
export function writePointer(storage: AgentStorage, pointer: SlotPointer): Promise<void> {
  return writeJson(storage, POINTER_KEY, pointer);
}

/** The slot to serve from: the fallback while a trial is not committed, else the current one. */
export function servingSlot(p: SlotPointer): SlotName | null {
  return p.trial ? p.fallback : p.current;
}

/** Empties a slot, envelope first, so a half-cleared slot never verifies. */
export async function clearSlot(storage: AgentStorage, slot: SlotName): Promise<void> {
  await storage.delete(envelopeKey(slot));
  for (const key of await storage.list(`slots/${slot}/`)) await storage.delete(key);
}

/** Writes one payload file into a slot (call {@link sealSlot} after the last one). */
export function writeSlotFile(storage: AgentStorage, slot: SlotName, path: string, bytes: Uint8Array): Promise<void> {
  return storage.write(fileKey(slot, path), bytes);
}

/** Writes the envelope last: a slot without it is incomplete by definition. */
export function sealSlot(storage: AgentStorage, slot: SlotName, envelope: Uint8Array): Promise<void> {
  return storage.write(envelopeKey(slot), envelope);
}

/**
 * Reads and verifies a slot: envelope present, signature by a trusted key, manifest well-formed,
 * every file present with its size and SHA-256. Expiry and sequence are NOT checked: a model that
 * was accepted keeps serving after its bundle expires. Throws AGENT_SLOT_INVALID.
 */
export async function readSlot(storage: AgentStorage, slot: SlotName, trusted: TrustedKeys, hash: Sha256Hex): Promise<InstalledModel> {
  const envelope = await storage.read(envelopeKey(slot));
  if (!envelope) throw invalid(slot, 'no envelope (empty or incomplete)');
  const env = decodeEnvelope(envelope);
  if (!env) throw invalid(slot, 'envelope is malformed');
  let manifest: BundleManifest;
  try {
    checkSignaturesOnce(env.manifestBytes, env.signatures, trusted, hash);
    manifest = parseManifest(env.manifestBytes);
  } catch (err) {
    throw invalid(slot, (err as Error).message, err);
  }
  const files = new Map<string, Uint8Array>();
  for (const f of manifest.files) {
    const bytes = await storage.read(fileKey(slot, f.path));
    if (!bytes || bytes.length !== f.size || hash(bytes) !== f.sha256)
      throw invalid(slot, `file ${f.path} is missing or does not match its sha256`);
    files.set(f.path, bytes);
  }
  return { slot, envelopeDigest: hash(envelope), manifestDigest: hash(env.manifestBytes), manifest, files };
}

/** {@link readSlot}, or null when the slot is empty or does not verify. */
export async function tryReadSlot(
  storage: AgentStorage,
  slot: SlotName | null,
  trusted: TrustedKeys,
  hash: Sha256Hex,
): Promise<InstalledModel | null> {
  if (!slot) return null;
  try {
    return await readSlot(storage, slot, trusted, hash);
  } catch {
    return null;
  }
}

/** The chunks an installed model holds, by digest, as views into its files: reused by the next update. */
export function heldChunks(model: InstalledModel | null): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  if (!model) return out;
  for (const f of model.manifest.files) {
    const bytes = model.files.get(f.path);
    if (!bytes) continue;
    for (const c of f.chunks) if (!out.has(c.digest)) out.set(c.digest, bytes.subarray(c.offset, c.offset + c.length));
  }
  return out;
}

function invalid(slot: SlotName, why: string, cause?: unknown): AgentError {
  return new AgentError('AGENT_SLOT_INVALID', `slot ${slot}: ${why}`, { cause });
}

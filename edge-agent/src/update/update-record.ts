// The update flow's persisted record: the state and everything a resumed step needs, saved atomically before each step.
import type { BundleRef, DeployState } from '@flotilla/firmware-bundler/wire';
import { DEPLOY_STATES } from '@flotilla/firmware-bundler/wire';
import { readJson, writeJson, type AgentStorage } from '../storage/agent-storage.ts';
import type { SlotName } from '../model/installed-model.ts';

/** The bundle an update installs: a desired-state reference, or one built for a local sideload. */
export interface UpdateTarget extends BundleRef {
  /** Where missing blobs come from: the server, or nowhere (a sideload put every blob in place first). */
  source: 'server' | 'sideload';
  /** The operator's retry nonce of the desired state [WIRE-2.2]: a new one tries a failed bundle again. */
  retry?: number;
}

/** A bundle that failed here, and why. */
export interface FailedBundle {
  key: string;
  manifestDigest: string;
  reason: string;
  /** False: a transient failure (storage, network) [WIRE-2.4.3]. Absent in records of older agents: permanent. */
  permanent?: boolean;
  /** Transient failures of this bundle in a row. */
  attempts?: number;
  /** When (ms since the epoch, agent clock) the agent tries again; null: it does not (permanent, or retries used up). */
  retryAt?: number | null;
}

/** What the update waits on [WIRE-2.4.2], with times in ms since the epoch (agent clock). */
export interface StoredWaiting {
  kind: 'window' | 'lock' | 'condition' | 'network';
  reason: string;
  since: number;
  until: number | null;
}

/** Identity of a desired bundle reference: any field changing (a rollback order included) makes it a new request. */
export function targetKey(
  t: Pick<UpdateTarget, 'id' | 'manifestDigest' | 'model' | 'version' | 'sequence' | 'rollback' | 'retry'>,
): string {
  const key = [t.id, t.manifestDigest, t.model, t.version, t.sequence, t.rollback === true ? 'rollback' : ''].join('|');
  return t.retry ? `${key}|retry ${t.retry}` : key;
}

/** Everything the update flow persists (one JSON file, written whole). */
export interface UpdateRecord {
  v: 1;
  state: DeployState;
  target: UpdateTarget | null;
  /** Slot being staged, and the slot that served when staging began. */
  slot: SlotName | null;
  previous: SlotName | null;
  /** Times this update was resumed after a crash; the loop guard ends it past the limit. */
  resumes: number;
  /** The agent was closed cleanly mid-update (so the next resume is not counted as a crash). */
  cleanStop: boolean;
  /** Why the update is failing (set on the failure event, read by rolling_back and failed). */
  failure: string | null;
  /** Highest sequence ever committed: the anti-rollback floor (SPEC §10.2 R2). */
  highSequence: number;
  /** Bundles committed here, newest last (an operator rollback may return to them) [WIRE-2.2]. */
  history: { manifestDigest: string; id: string }[];
  /** The last bundle that failed; not retried until the desired bundle reference changes (`key`, see {@link targetKey}). */
  lastFailed: FailedBundle | null;
  lastError: string | null;
  /** Sequence number of the next status event [WIRE-2.4]. */
  statusSeq: number;
  /** What the update waits on in a waiting state [WIRE-4.2]; null otherwise. */
  waiting: StoredWaiting | null;
  /** How the failure in progress is judged (set on the move to `failed`, copied into `lastFailed` there). */
  failureRetry: Pick<FailedBundle, 'permanent' | 'attempts' | 'retryAt'> | null;
}

/** Storage key of the record. */
export const RECORD_KEY = 'state/update.json';
/** Most bundles kept in `history`. */
export const HISTORY_LIMIT = 32;

/** The record of a device that never installed anything. */
export function initialRecord(): UpdateRecord {
  return {
    v: 1,
    state: 'idle',
    target: null,
    slot: null,
    previous: null,
    resumes: 0,
    cleanStop: false,
    failure: null,
    highSequence: 0,
    history: [],
    lastFailed: null,
    lastError: null,
    statusSeq: 0,
    waiting: null,
    failureRetry: null,
  };
}

/** Loads the record; a missing or unreadable one starts fresh (the slot pointer still says what serves). */
export async function loadRecord(storage: AgentStorage): Promise<UpdateRecord> {
  const r = await readJson<UpdateRecord>(storage, RECORD_KEY);
  if (!r || r.v !== 1 || !(DEPLOY_STATES as readonly string[]).includes(r.state)) return initialRecord();
  return { ...initialRecord(), ...r };
}

/** Saves the record atomically (write-temp-fsync-rename in FileStorage, one transaction in IndexedDB). */
export function saveRecord(storage: AgentStorage, record: UpdateRecord): Promise<void> {
  return writeJson(storage, RECORD_KEY, record);
}

// Trust rotation on the agent (SPEC §6.6, [WIRE-2.2.3]): a desired state may carry a signed trust
// update; the agent verifies it against the keys it trusts now, stores it atomically, then checks
// bundles against the new set. Refused: older versions, too few signatures, keys it no longer trusts.
import { fromHex, isBundleError, keyIdOf, toHex, verifyTrustUpdate, type TrustState } from '@flotilla/firmware-bundler';
import { decodeMessage, DesiredState } from '@flotilla/firmware-bundler/wire';
import { readJson, writeJson, type AgentStorage } from '../storage/agent-storage.ts';

/** Where the accepted trust state lives in the agent's storage. */
export const TRUST_KEY = 'identity/trust.json';

/**
 * The trust state to start from: the stored one when an update was accepted before, else the
 * provisioned keys (version 0, threshold 1). `keys` (the map every verifier reads) is replaced in place.
 */
export async function loadTrust(storage: AgentStorage, keys: Map<string, Uint8Array>): Promise<TrustState> {
  const stored = await readJson<TrustState>(storage, TRUST_KEY);
  if (stored && Number.isSafeInteger(stored.version) && stored.version > 0 && Array.isArray(stored.keys) && stored.keys.length > 0) {
    replaceKeys(keys, stored.keys);
    return stored;
  }
  return { version: 0, keys: [...keys.values()].map((k) => toHex(k)), threshold: 1 };
}

/**
 * Watches desired states for trust updates. Verification is synchronous and the key map changes at
 * once, before the write resolves: a desired state carrying both a trust update and a bundle signed by
 * the new key must find the new key when its bundle is checked. A failed write keeps the new set in
 * memory (the next start re-applies the update from the retained desired state).
 */
export function keepTrust(o: {
  on: (fn: (payload: Uint8Array) => void) => () => void;
  storage: AgentStorage;
  keys: Map<string, Uint8Array>;
  initial: TrustState;
  log?: (line: string) => void;
  /** Called with each accepted or refused update (tests, events). */
  onUpdate?: (e: { accepted: boolean; version: number; reason?: string }) => void;
}): () => void {
  let state = o.initial;
  let chain = Promise.resolve();
  return o.on((payload) => {
    const d = decodeMessage(DesiredState, payload);
    const update = d?.trust;
    if (!update || update.version === state.version) return;
    try {
      state = verifyTrustUpdate(update, state);
    } catch (err) {
      if (!isBundleError(err)) throw err;
      o.log?.(`trust: update to version ${update.version} refused: ${err.message}`);
      return o.onUpdate?.({ accepted: false, version: update.version, reason: err.message });
    }
    replaceKeys(o.keys, state.keys);
    const accepted = state;
    o.log?.(`trust: now version ${accepted.version}, ${accepted.keys.length} key(s), threshold ${accepted.threshold}`);
    o.onUpdate?.({ accepted: true, version: accepted.version });
    chain = chain
      .then(() => writeJson(o.storage, TRUST_KEY, accepted))
      .catch((err: Error) => o.log?.(`trust: could not store version ${accepted.version}: ${err.message}`));
  });
}

function replaceKeys(keys: Map<string, Uint8Array>, hex: readonly string[]): void {
  keys.clear();
  for (const h of hex) {
    const k = fromHex(h);
    keys.set(keyIdOf(k), k);
  }
}

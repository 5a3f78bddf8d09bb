// Device credential rotation on the agent [WIRE-2.11]: the server sends a new token on `credentials`;
// the agent stores it (atomically, before using it), reconnects with it, and uses it after restarts.
import { sha256Hex, utf8 } from '@flotilla/firmware-bundler';
import { CredentialRotation, decodeMessage } from '@flotilla/firmware-bundler/wire';
import { readJson, writeJson, type AgentStorage } from '../storage/agent-storage.ts';

/** Where the rotated credential lives in the agent's storage. */
export const CREDENTIAL_KEY = 'identity/credential.json';

interface StoredCredential {
  token: string;
  generation: number;
  /** sha256 of the token the agent was configured with when the chain of rotations began. */
  origin: string;
}

/**
 * The token to connect with: a rotated one stored earlier, as long as the configured token is the
 * one that chain started from; a different configured token (the operator gave a new one) wins.
 */
export async function effectiveToken(storage: AgentStorage, configured: string): Promise<string> {
  const stored = await readJson<StoredCredential>(storage, CREDENTIAL_KEY);
  if (stored && typeof stored.token === 'string' && stored.origin === sha256Hex(utf8(configured))) return stored.token;
  return configured;
}

/**
 * Listens for rotations: an invalid or older message is ignored (logged); a newer one is persisted,
 * then handed to `apply` (which reconnects with it, so the broker sees the new token at once).
 */
export function keepCredentials(o: {
  on: (fn: (payload: Uint8Array) => void) => () => void;
  storage: AgentStorage;
  configured: string;
  /** The token in use now. */
  current: () => string;
  apply: (token: string) => void;
  log?: (line: string) => void;
}): () => void {
  let generation = 0;
  let chain = Promise.resolve();
  const origin = sha256Hex(utf8(o.configured));
  void readJson<StoredCredential>(o.storage, CREDENTIAL_KEY).then((s) => {
    if (s && s.origin === origin) generation = Math.max(generation, s.generation);
  });
  return o.on((payload) => {
    const m = decodeMessage(CredentialRotation, payload);
    if (!m) return o.log?.('credentials: invalid rotation message ignored [WIRE-2.11]');
    // One at a time, in arrival order, so a slow write never lets an older token win.
    chain = chain.then(async () => {
      if (m.generation <= generation || m.token === o.current()) return;
      // A newer token may have been stored by another path meanwhile (a recovery, credential-recovery.ts).
      const stored = await readJson<StoredCredential>(o.storage, CREDENTIAL_KEY).catch(() => null);
      if (stored && stored.origin === origin && stored.generation >= m.generation) return;
      try {
        await writeJson(o.storage, CREDENTIAL_KEY, { token: m.token, generation: m.generation, origin } satisfies StoredCredential);
      } catch (err) {
        // Not stored: keep the old token (valid until the overlap ends) and take the next rotation.
        return o.log?.(`credentials: could not store the new token: ${(err as Error)?.message ?? err}`);
      }
      generation = m.generation;
      o.log?.(`credentials: rotated to generation ${m.generation}; reconnecting`);
      o.apply(m.token);
    });
  });
}

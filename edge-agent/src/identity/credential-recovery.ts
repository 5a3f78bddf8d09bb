// Recovery of a refused credential [WIRE-3.5]: an enrolled device that stayed offline past its overlap
// window finds its token refused (CONNACK 4/5, HTTP 401). It still holds the key it enrolled with, so it
// signs a fresh proof, the server checks it against the key on record, and the device gets a new token:
// no claim, no operator. Stored like a rotated credential (credential-keeper.ts), so restarts use it.
import { createEd25519Signer, fromHex, keyPairFromSecret, sha256Hex, utf8 } from '@flotilla/firmware-bundler';
import { decodeMessage, recoverProofMessage, RecoverResponse, toBase64 } from '@flotilla/firmware-bundler/wire';
import { readJson, writeJson, type AgentStorage } from '../storage/agent-storage.ts';
import { CREDENTIAL_KEY } from './credential-keeper.ts';
import { DEVICE_KEY } from './enroll.ts';

export interface RecoveryOptions {
  /** Server base URL; without one there is nothing to ask. */
  server?: string;
  deviceId: string;
  storage: AgentStorage;
  /** The token the agent was configured with (the origin of its chain of rotations). */
  configured: string;
  /** Connects with the fresh token (after it is stored). */
  apply: (token: string) => void;
  /** Least time between two attempts, ms (a refused proof must not turn into a request storm). Default 30000. */
  minIntervalMs?: number;
  /**
   * After a rotation, how long a refusal is taken for the broker not having the new token yet, ms: an
   * external broker (Mosquitto) gets it a moment after the device, which reconnects at once and is
   * refused meanwhile: with 10,000 clients the plugin takes 7–9 s for one batch of 20 passwords (it rewrites its
   * file per command). The link retries with backoff; only a refusal after this window recovers. Default 30000.
   */
  rotationGraceMs?: number;
  fetch?: typeof fetch;
  now?: () => number;
  log?: (line: string) => void;
}

/** What {@link credentialRecovery} gives the link: call `refused()` whenever the credential is refused. */
export interface CredentialRecovery {
  /** Tries to recover (at most one attempt at a time, and not more often than `minIntervalMs`); true when a fresh token was applied. */
  refused(): Promise<boolean>;
  /** A rotated token was just applied: refusals within `rotationGraceMs` do not recover. */
  rotated(): void;
}

export function credentialRecovery(o: RecoveryOptions): CredentialRecovery {
  let inFlight: Promise<boolean> | null = null;
  let last = -Infinity;
  let rotatedAt = -Infinity;
  const now = () => o.now?.() ?? Date.now();
  const attempt = async (): Promise<boolean> => {
    const keyFile = await readJson<{ secretKey: string }>(o.storage, DEVICE_KEY);
    // A device provisioned with a token (no enrollment) has no key: only the operator can help it.
    if (!o.server || !keyFile || !/^[0-9a-f]{64}$/.test(keyFile.secretKey ?? '')) return false;
    const pair = keyPairFromSecret(fromHex(keyFile.secretKey));
    const timestamp = Math.trunc(now());
    const proof = toBase64(await createEd25519Signer(pair.secretKey).sign(recoverProofMessage(o.deviceId, timestamp)));
    const url = `${o.server.replace(/\/+$/, '')}/api/v1/recover`;
    let res: Response;
    try {
      res = await (o.fetch ?? fetch)(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ v: 1, deviceId: o.deviceId, timestamp, proof }),
      });
    } catch (err) {
      o.log?.(`credentials: cannot reach ${url} to recover: ${(err as Error)?.message ?? err}`);
      return false;
    }
    const text = await res.text();
    const answer = res.ok ? decodeMessage(RecoverResponse, text) : null;
    if (!answer || answer.deviceId !== o.deviceId) {
      o.log?.(`credentials: recovery refused (HTTP ${res.status}): ${text.slice(0, 300)}`);
      return false;
    }
    // Stored before use, with the origin of the configured token, exactly as a rotation is (credential-keeper.ts).
    await writeJson(o.storage, CREDENTIAL_KEY, {
      token: answer.token,
      generation: answer.generation,
      origin: sha256Hex(utf8(o.configured)),
    });
    o.log?.(`credentials: recovered with the device key; generation ${answer.generation}`);
    o.apply(answer.token);
    return true;
  };
  return {
    rotated() {
      rotatedAt = now();
    },
    refused() {
      if (inFlight) return inFlight;
      // Recovering here would mint yet another token, and a broker write for each: the new one is on its way.
      if (now() - rotatedAt < (o.rotationGraceMs ?? 30_000)) return Promise.resolve(false);
      if (now() - last < (o.minIntervalMs ?? 30_000)) return Promise.resolve(false);
      last = now();
      inFlight = attempt()
        .catch((err: unknown) => {
          o.log?.(`credentials: recovery failed: ${(err as Error)?.message ?? err}`);
          return false;
        })
        .finally(() => (inFlight = null));
      return inFlight;
    },
  };
}

// Enrollment by claim on the agent [WIRE-3.4]: on first start the agent makes its own Ed25519 key pair,
// stores it (owner-only file), proves possession to the server with the factory claim, and stores the
// identity it gets back; later starts use that identity and never need the claim again.
import { createEd25519Signer, generateKeyPair, fromHex, keyPairFromSecret, toHex } from '@flotilla/firmware-bundler';
import { CLAIM, EnrollResponse, decodeMessage, enrollProofMessage, toBase64 } from '@flotilla/firmware-bundler/wire';
import { AgentError } from '../errors.ts';
import { readJson, writeJson, type AgentStorage } from '../storage/agent-storage.ts';

/** The device's own key pair (secret: hex seed). Written once, before the first enrollment attempt. */
export const DEVICE_KEY = 'identity/device-key.json';
/** The identity the server gave: device id, first token, generation. */
export const IDENTITY_KEY = 'identity/device.json';

/** Attempts after the first when the server is unreachable or failing (250 ms doubling: about 8 s in all). */
const RETRIES = 5;

export interface EnrolledIdentity {
  deviceId: string;
  token: string;
  generation: number;
  serial: string;
}

export interface EnrollOptions {
  server: string;
  claim: string;
  serial: string;
  storage: AgentStorage;
  fetch?: typeof fetch;
  now?: () => number;
}

/** The stored identity when there is one for this serial, else enrolls (once) and stores it. */
export async function enrollWithClaim(o: EnrollOptions): Promise<EnrolledIdentity & { enrolled: boolean }> {
  const stored = await readJson<EnrolledIdentity>(o.storage, IDENTITY_KEY);
  if (stored && stored.serial === o.serial && typeof stored.token === 'string') return { ...stored, enrolled: false };
  const m = CLAIM.exec(o.claim);
  if (!m)
    throw new AgentError(
      'AGENT_CONFIG_INVALID',
      'the claim must look like fec_enr-xxxxxxxx.<32 characters> (as printed by flotilla enrollments create)',
    );
  const enrollmentId = m[1]!;
  // The key is stored before it is ever used: a device that crashes mid-enrollment retries with the same key.
  let keyFile = await readJson<{ secretKey: string }>(o.storage, DEVICE_KEY);
  if (!keyFile || typeof keyFile.secretKey !== 'string' || !/^[0-9a-f]{64}$/.test(keyFile.secretKey)) {
    keyFile = { secretKey: toHex(generateKeyPair().secretKey) };
    await writeJson(o.storage, DEVICE_KEY, keyFile);
  }
  const pair = keyPairFromSecret(fromHex(keyFile.secretKey));
  const publicKey = toBase64(pair.publicKey);
  const timestamp = Math.trunc(o.now?.() ?? Date.now());
  const proof = toBase64(await createEd25519Signer(pair.secretKey).sign(enrollProofMessage(enrollmentId, o.serial, publicKey, timestamp)));
  const url = `${o.server.replace(/\/+$/, '')}/api/v1/enroll`;
  const body = JSON.stringify({ v: 1, serial: o.serial, publicKey, timestamp, proof });
  let res: Response | null = null;
  let text = '';
  // A busy or restarting server (connection reset, 5xx) is tried again; a refusal (4xx) is final.
  for (let attempt = 0; ; attempt++) {
    try {
      res = await (o.fetch ?? fetch)(url, {
        method: 'POST',
        headers: { authorization: `Claim ${o.claim}`, 'content-type': 'application/json' },
        body,
      });
      text = await res.text();
      if (res.status < 500 || attempt >= RETRIES) break;
    } catch (err) {
      if (attempt >= RETRIES)
        throw new AgentError('AGENT_BOOTSTRAP_FAILED', `cannot reach ${url}: ${(err as Error)?.message ?? err}`, { cause: err });
    }
    await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
  }
  if (!res?.ok) {
    let why = `HTTP ${res?.status}`;
    try {
      const e = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
      if (e?.code) why = `${e.code}: ${String(e.message ?? '').slice(0, 500)}`;
    } catch {
      /* not JSON: the status says enough */
    }
    throw new AgentError('AGENT_BOOTSTRAP_FAILED', `enrollment refused (${why})`);
  }
  const r = decodeMessage(EnrollResponse, text);
  if (!r) throw new AgentError('AGENT_BOOTSTRAP_FAILED', `${url} did not answer an enrollment [WIRE-3.4]`);
  const identity: EnrolledIdentity = { deviceId: r.deviceId, token: r.token, generation: r.generation, serial: o.serial };
  await writeJson(o.storage, IDENTITY_KEY, identity);
  return { ...identity, enrolled: true };
}

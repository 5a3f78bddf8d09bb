// `flotilla agent --trust-fingerprint SHA256:…`: on first start the agent fetches the server's bundle signing key,
// trusts it only when it hashes to the fingerprint the operator gave it out of band, and keeps it in its data
// folder; later starts use the kept key and never ask the server again (a server cannot swap keys on a device).
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodePublicKeyFile, encodePublicKeyFile, fromHex, keyFingerprint, normalizeFingerprint } from '@flotilla/firmware-bundler';
import { AgentError } from '../errors.ts';

/** The key trusted on first start, in the agent's data folder (public key file format, SPEC §6.4). */
export const TRUSTED_KEY_FILE = 'trusted-key.pub.json';

export interface TrustOptions {
  server: string;
  fingerprint: string;
  dataDir: string;
  fetch?: typeof fetch;
}

/**
 * The public key file text to trust: the kept one when its fingerprint matches, else the server's key with
 * that fingerprint (then kept). Throws AGENT_CONFIG_INVALID for a malformed fingerprint and
 * AGENT_KEY_UNTRUSTED when no key matches or the server cannot be asked.
 */
export async function trustedKeyFromServer(o: TrustOptions): Promise<{ keyFile: string; fingerprint: string; fetched: boolean }> {
  const wanted = normalizeFingerprint(o.fingerprint);
  if (!wanted)
    throw new AgentError(
      'AGENT_CONFIG_INVALID',
      `--trust-fingerprint '${o.fingerprint}' is not SHA256: and 64 hex characters (the server prints it at start; flotilla keys show)`,
    );
  const file = join(o.dataDir, TRUSTED_KEY_FILE);
  if (existsSync(file)) {
    const kept = keyFingerprint(decodePublicKeyFile(await readFile(file, 'utf8')));
    if (kept !== wanted) {
      throw new AgentError(
        'AGENT_KEY_UNTRUSTED',
        `${file} holds the key trusted on first start (${kept}), not ${wanted}; to trust another key, delete that file and start again`,
      );
    }
    return { keyFile: file, fingerprint: kept, fetched: false };
  }
  const url = `${o.server.replace(/\/$/, '')}/api/v1/keys`;
  let offered: { publicKey?: unknown }[];
  try {
    const res = await (o.fetch ?? fetch)(url);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    offered = ((await res.json()) as { keys?: { publicKey?: unknown }[] }).keys ?? [];
  } catch (e) {
    throw new AgentError(
      'AGENT_KEY_UNTRUSTED',
      `cannot fetch the server's bundle key from ${url} (${(e as Error).message}); start the server, or give the key itself with --trusted-key`,
      { cause: e },
    );
  }
  // The fingerprint is computed here from the key bytes, never taken from what the server says it is.
  const keys = offered.flatMap((k) =>
    typeof k.publicKey === 'string' && /^[0-9a-f]{64}$/i.test(k.publicKey) ? [fromHex(k.publicKey.toLowerCase())] : [],
  );
  const match = keys.find((k) => keyFingerprint(k) === wanted);
  if (!match) {
    const seen = keys.map(keyFingerprint).join(', ') || 'no key';
    throw new AgentError(
      'AGENT_KEY_UNTRUSTED',
      `the server at ${o.server} offers ${seen}, not ${wanted}: refusing to trust it. Check the fingerprint with the server's operator (flotilla keys show), or that --server names the right server`,
    );
  }
  await mkdir(o.dataDir, { recursive: true });
  await writeFile(`${file}.tmp`, encodePublicKeyFile(match));
  await rename(`${file}.tmp`, file);
  return { keyFile: file, fingerprint: wanted, fetched: true };
}

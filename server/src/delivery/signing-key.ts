// The server's bundle signing key: made on first start under <data>/keys (private key mode 0600),
// loaded on every later start. Devices are provisioned with its public key.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createEd25519Signer, keyFingerprint, type Signer } from '@flotilla/firmware-bundler';
import { loadSecretKey, writeKeyPair } from '@flotilla/firmware-bundler/node';

export interface SigningKey {
  signer: Signer;
  keyId: string;
  /** The public key file's text (JSON with kind, keyId and hex key), as devices are given it. */
  publicKeyFile: string;
  publicKeyHex: string;
  /** `SHA256:<hex>` of the public key: what an operator gives `flotilla agent --trust-fingerprint`. */
  fingerprint: string;
  created: boolean;
}

/** Loads `<dataDir>/keys/signing.key`, creating the pair first when there is none. */
export async function loadOrCreateSigningKey(dataDir: string): Promise<SigningKey> {
  const dir = join(dataDir, 'keys');
  const secret = join(dir, 'signing.key');
  const created = !existsSync(secret);
  if (created) await writeKeyPair(dir, { name: 'signing' });
  const pair = await loadSecretKey(secret);
  return {
    signer: createEd25519Signer(pair.secretKey),
    keyId: pair.keyId,
    publicKeyFile: await readFile(join(dir, 'signing.pub'), 'utf8'),
    publicKeyHex: Buffer.from(pair.publicKey).toString('hex'),
    fingerprint: keyFingerprint(pair.publicKey),
    created,
  };
}

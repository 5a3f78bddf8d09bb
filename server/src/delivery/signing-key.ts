// The server's first bundle signing key: made on first start under <data>/keys (private key mode 0600),
// loaded on every later start. Devices are provisioned with its public key. Later keys come from
// `flotilla keys rotate` and live beside it; key-ring.ts decides which are trusted and which signs.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createEd25519Signer, encodePublicKeyFile, keyFingerprint, toHex, type KeyPair, type Signer } from '@flotilla/firmware-bundler';
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

/** The first key's file name (without .key/.pub); rotated keys are `signing-<keyId>`. */
export const FIRST_KEY_NAME = 'signing';

/** A loaded key pair in the shape the rest of the server uses. */
export function signingKeyOf(pair: KeyPair, created = false): SigningKey {
  return {
    signer: createEd25519Signer(pair.secretKey),
    keyId: pair.keyId,
    publicKeyFile: encodePublicKeyFile(pair.publicKey),
    publicKeyHex: toHex(pair.publicKey),
    fingerprint: keyFingerprint(pair.publicKey),
    created,
  };
}

/** Loads `<dataDir>/keys/signing.key`, creating the pair first when there is none. */
export async function loadOrCreateSigningKey(dataDir: string): Promise<SigningKey> {
  const dir = join(dataDir, 'keys');
  const secret = join(dir, `${FIRST_KEY_NAME}.key`);
  const created = !existsSync(secret);
  if (created) await writeKeyPair(dir, { name: FIRST_KEY_NAME });
  return signingKeyOf(await loadSecretKey(secret), created);
}

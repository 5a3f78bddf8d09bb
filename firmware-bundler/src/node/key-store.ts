// Key files on disk: generate into a folder, load secret and public keys (SPEC §6.4).
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BundleError } from '../errors.ts';
import { generateKeyPair, type KeyPair } from '../keys/ed25519.ts';
import { decodePublicKeyFile, decodeSecretKeyFile, encodePublicKeyFile, encodeSecretKeyFile } from '../keys/key-file.ts';

/** Where {@link writeKeyPair} put the two files. */
export interface KeyPairFiles {
  readonly keyId: string;
  readonly secretKeyFile: string;
  readonly publicKeyFile: string;
}

/**
 * Writes `<dir>/<name>.key` (mode 0600) and `<dir>/<name>.pub` for `pair` (default: a new random
 * pair; default name `signing`). Refuses to overwrite either file (`BUNDLE_OUTPUT_EXISTS`).
 */
export async function writeKeyPair(dir: string, options: { name?: string; pair?: KeyPair } = {}): Promise<KeyPairFiles> {
  const name = options.name ?? 'signing';
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(name) || name.startsWith('.')) {
    throw new BundleError(
      'BUNDLE_INPUT_INVALID',
      `key name ${JSON.stringify(name)} must be 1-64 characters of [A-Za-z0-9._-]`,
      'SPEC §6.4',
    );
  }
  const pair = options.pair ?? generateKeyPair();
  await mkdir(dir, { recursive: true });
  const secretKeyFile = join(dir, `${name}.key`);
  const publicKeyFile = join(dir, `${name}.pub`);
  await writeNew(secretKeyFile, encodeSecretKeyFile(pair), 0o600);
  await writeNew(publicKeyFile, encodePublicKeyFile(pair.publicKey), 0o644);
  return { keyId: pair.keyId, secretKeyFile, publicKeyFile };
}

/** The key pair in a secret key file. */
export async function loadSecretKey(file: string): Promise<KeyPair> {
  return decodeSecretKeyFile(await readFile(file, 'utf8'));
}

/** The public key in a public key file (or a bare 64-hex file). */
export async function loadPublicKey(file: string): Promise<Uint8Array> {
  return decodePublicKeyFile(await readFile(file, 'utf8'));
}

async function writeNew(file: string, text: string, mode: number): Promise<void> {
  try {
    await writeFile(file, text, { flag: 'wx', mode });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST')
      throw new BundleError('BUNDLE_OUTPUT_EXISTS', `${file} already exists; refusing to overwrite a key`, 'SPEC §6.4');
    throw err;
  }
}

// The credential key: device tokens after the first are derived, token = HMAC-SHA256(key, id:generation),
// so the server can give a device its current token again at any time (a device that missed a rotation,
// an external broker that needs the plaintext to create a client) while the store still keeps only hashes.
// Made on first start under <keys>/credential.key (mode 0600) beside the bundle signing key.
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hashDeviceToken } from './device-credentials.ts';

export class CredentialKey {
  constructor(private readonly secret: Buffer) {
    if (secret.length !== 32) throw new Error('a credential key has 32 bytes');
  }

  /** The token of `deviceId` at `generation` (`fdt_` and 32 base64url characters, like a random token). */
  token(deviceId: string, generation: number): string {
    return `fdt_${createHmac('sha256', this.secret).update(`${deviceId}:${generation}`).digest().subarray(0, 24).toString('base64url')}`;
  }

  /** The sha256 the store keeps of that token. */
  hash(deviceId: string, generation: number): string {
    return hashDeviceToken(this.token(deviceId, generation));
  }
}

/** Loads `<keysDir>/credential.key`, creating it first when there is none. */
export async function loadOrCreateCredentialKey(keysDir: string): Promise<CredentialKey> {
  const file = join(keysDir, 'credential.key');
  if (!existsSync(file)) {
    await mkdir(keysDir, { recursive: true, mode: 0o700 });
    // 'wx': two processes starting at once never overwrite each other's key.
    await writeFile(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
  }
  const hex = (await readFile(file, 'utf8')).trim();
  if (!/^[0-9a-f]{64}$/.test(hex))
    throw new Error(
      `${file} is not a credential key (64 hex characters); restore it from a backup, or remove it and re-enroll every device`,
    );
  return new CredentialKey(Buffer.from(hex, 'hex'));
}

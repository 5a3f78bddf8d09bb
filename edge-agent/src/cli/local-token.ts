// The local predict server's token: what a caller on this device shows to post feedback labels.
import { randomBytes } from 'node:crypto';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** File in the agent's data folder that holds the token (readable by the agent's user only). */
export const SERVE_TOKEN_FILE = 'serve-token';

/**
 * The token in `<dataDir>/serve-token`, created (32 random bytes, hex, mode 0600) when missing. Apps
 * on the device read it from there; a web page in a browser cannot, which is the point.
 */
export async function loadOrCreateServeToken(dataDir: string): Promise<string> {
  const file = join(dataDir, SERVE_TOKEN_FILE);
  const saved = await readFile(file, 'utf8').then(
    (t) => t.trim(),
    () => '',
  );
  if (saved.length >= 16) return saved;
  const token = randomBytes(32).toString('hex');
  await writeFile(file, `${token}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return token;
}

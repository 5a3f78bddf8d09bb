// First start: make sure an admin can sign in. FLOTILLA_ADMIN_TOKEN wins (scripts, CI); otherwise a
// fresh data folder gets a random admin token written to <data>/admin-token with mode 0600.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TokenStore } from '../store/store.ts';
import { hashToken, issueToken } from './tokens.ts';

export interface AdminBootstrap {
  /** Where the generated token is stored, when one was generated or already existed. */
  tokenFile: string | null;
  created: boolean;
}

/** Name of the token registered from FLOTILLA_ADMIN_TOKEN: at most one of them is live. */
const ENV_ADMIN = 'admin (FLOTILLA_ADMIN_TOKEN)';

export async function bootstrapAdmin(
  tokens: TokenStore,
  dataDir: string,
  envToken = process.env.FLOTILLA_ADMIN_TOKEN,
): Promise<AdminBootstrap> {
  const tokenFile = join(dataDir, 'admin-token');
  if (envToken) {
    const current = await tokens.findByHash(hashToken(envToken));
    // Changing FLOTILLA_ADMIN_TOKEN is how an operator replaces it: the one it replaced stops working.
    for (const t of await tokens.list()) {
      if (t.name === ENV_ADMIN && !t.revokedAt && t.id !== current?.id) await tokens.revoke(t.id);
    }
    if (!current) {
      try {
        await issueToken(tokens, ENV_ADMIN, 'admin', envToken);
      } catch (e) {
        // Another server process on the same store registered it first (the hash is unique).
        if (!(await tokens.findByHash(hashToken(envToken)))) throw e;
        return { tokenFile: null, created: false };
      }
      return { tokenFile: null, created: true };
    }
    return { tokenFile: null, created: false };
  }
  if ((await tokens.count()) > 0) return { tokenFile: existsSync(tokenFile) ? tokenFile : null, created: false };
  const { token } = await issueToken(tokens, 'admin (first start)', 'admin');
  writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
  return { tokenFile, created: true };
}

/** Reads the generated admin token, for local CLI use. */
export function readAdminTokenFile(dataDir: string): string | null {
  try {
    return readFileSync(join(dataDir, 'admin-token'), 'utf8').trim() || null;
  } catch {
    return null;
  }
}

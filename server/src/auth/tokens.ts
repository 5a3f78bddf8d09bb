// Operator API tokens: random secrets shown once, stored as sha256 hashes, each with a role.
import { createHash, randomBytes } from 'node:crypto';
import type { ApiToken, Role } from '../store/entities.ts';
import type { TokenStore } from '../store/store.ts';

export const ROLES: Role[] = ['viewer', 'operator', 'admin'];
const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

/** True when `have` is at least `need` (admin ⊇ operator ⊇ viewer). */
export const roleAllows = (have: Role, need: Role): boolean => RANK[have] >= RANK[need];

export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

export function newTokenSecret(): string {
  return `flt_${randomBytes(24).toString('base64url')}`;
}

/** Creates a token; the secret is returned once and never stored. */
export async function issueToken(
  tokens: TokenStore,
  name: string,
  role: Role,
  secret = newTokenSecret(),
): Promise<{ token: string; info: ApiToken }> {
  const info = await tokens.create({ id: `tok_${randomBytes(6).toString('hex')}`, name, role, hash: hashToken(secret) });
  return { token: secret, info };
}

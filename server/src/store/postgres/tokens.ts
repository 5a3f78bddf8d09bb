// PostgreSQL TokenStore: operator API tokens, stored only as hashes.
import type { ApiToken, Role } from '../entities.ts';
import type { TokenStore } from '../store.ts';
import type { Pool } from './pg-db.ts';
import { iso, isoOrNull, now, type Row } from './pg-values.ts';

const toEntity = (r: Row): ApiToken => ({
  id: r.id as string,
  name: r.name as string,
  role: r.role as Role,
  createdAt: iso(r.created_at),
  revokedAt: isoOrNull(r.revoked_at),
});

export class PostgresTokenStore implements TokenStore {
  constructor(private readonly pool: Pool) {}

  async create(t: { id: string; name: string; role: Role; hash: string }): Promise<ApiToken> {
    const at = now();
    await this.pool.query('INSERT INTO tokens (id, name, role, hash, created_at) VALUES ($1, $2, $3, $4, $5)', [
      t.id,
      t.name,
      t.role,
      t.hash,
      at,
    ]);
    return { id: t.id, name: t.name, role: t.role, createdAt: at, revokedAt: null };
  }

  async findByHash(hash: string): Promise<ApiToken | null> {
    const { rows } = await this.pool.query('SELECT * FROM tokens WHERE hash = $1 AND revoked_at IS NULL', [hash]);
    return rows[0] ? toEntity(rows[0]) : null;
  }

  async list(): Promise<ApiToken[]> {
    return (await this.pool.query('SELECT * FROM tokens ORDER BY created_at, id')).rows.map(toEntity);
  }

  async revoke(id: string): Promise<boolean> {
    return (
      ((await this.pool.query('UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [now(), id])).rowCount ?? 0) > 0
    );
  }

  async count(): Promise<number> {
    return Number((await this.pool.query('SELECT COUNT(*) AS n FROM tokens')).rows[0].n);
  }
}

// SQLite TokenStore: operator API tokens, stored only as hashes.
import type { ApiToken, Role } from '../entities.ts';
import type { TokenStore } from '../store.ts';
import { type Db, now } from './db.ts';

type Row = { id: string; name: string; role: Role; created_at: string; revoked_at: string | null };
const toEntity = (r: Row): ApiToken => ({ id: r.id, name: r.name, role: r.role, createdAt: r.created_at, revokedAt: r.revoked_at });

export class SqliteTokenStore implements TokenStore {
  constructor(private readonly db: Db) {}

  async create(t: { id: string; name: string; role: Role; hash: string }): Promise<ApiToken> {
    const at = now();
    this.db.prepare('INSERT INTO tokens (id, name, role, hash, created_at) VALUES (?, ?, ?, ?, ?)').run(t.id, t.name, t.role, t.hash, at);
    return { id: t.id, name: t.name, role: t.role, createdAt: at, revokedAt: null };
  }

  async findByHash(hash: string): Promise<ApiToken | null> {
    const r = this.db.prepare('SELECT * FROM tokens WHERE hash = ? AND revoked_at IS NULL').get(hash) as Row | undefined;
    return r ? toEntity(r) : null;
  }

  async list(): Promise<ApiToken[]> {
    return (this.db.prepare('SELECT * FROM tokens ORDER BY created_at').all() as Row[]).map(toEntity);
  }

  async revoke(id: string): Promise<boolean> {
    return this.db.prepare('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(now(), id).changes > 0;
  }

  async count(): Promise<number> {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM tokens').get() as { n: number }).n;
  }
}

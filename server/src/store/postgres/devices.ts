// PostgreSQL DeviceStore: the fleet registry, presence, reported and desired state, and each device's timeline.
// Several server processes may share the database: every multi-row write locks its rows in id order
// first (so two writers never deadlock), and revisions are computed under those row locks.
import type { Device, DeviceEvent, DeviceFilter, NewDevice } from '../entities.ts';
import { StoreError } from '../store-error.ts';
import type { DeviceCredential, DevicePage, DeviceStore } from '../store.ts';
import { type Pool, withTx } from './pg-db.ts';
import { toDevice } from '../entity-rows.ts';
import { iso, isoOrNull, json, jsonText, now, num, params, PG_COLUMNS, type Queryable, type Row, uniqueViolation } from './pg-values.ts';

/** Events kept per device; older ones are pruned as new ones arrive. */
const EVENTS_KEPT = 500;
/** Devices inserted per statement by createMany (one JSON parameter each). */
const INSERT_CHUNK = 1000;

export const toEntity = (r: Row): Device => toDevice(r, PG_COLUMNS);

/** `name@version` of a reported model, or null; used as an indexed filter column. */
function modelVersionOf(reported: Record<string, unknown>): string | null {
  const m = reported.model as { name?: unknown; version?: unknown } | null | undefined;
  return m && typeof m.name === 'string' && typeof m.version === 'string' ? `${m.name}@${m.version}` : null;
}

/** Locks the rows of `ids` that exist, in id order, and returns them. */
async function lockInOrder(c: Queryable, ids: string[], extra = ''): Promise<Row[]> {
  return (await c.query(`SELECT * FROM devices WHERE id = ANY($1::text[]) ${extra} ORDER BY id FOR UPDATE`, [ids])).rows;
}

export class PostgresDeviceStore implements DeviceStore {
  constructor(private readonly pool: Pool) {}

  async createMany(devices: NewDevice[]): Promise<Device[]> {
    if (devices.length === 0) return [];
    const at = now();
    const rows = devices.map((d) => ({
      id: d.id,
      token_hash: d.tokenHash,
      name: d.name ?? d.id,
      tags: unique(d.tags),
      groups: unique(d.groups),
      attributes: d.attributes ?? {},
      created_at: at,
    }));
    const made = new Map<string, Device>();
    try {
      await withTx(this.pool, async (c) => {
        for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
          const { rows: inserted } = await c.query(
            `INSERT INTO devices (id, token_hash, name, tags, groups, attributes, created_at)
             SELECT x.id, x.token_hash, x.name, x.tags, x.groups, x.attributes, x.created_at
             FROM jsonb_to_recordset($1::jsonb) AS x(id text, token_hash text, name text, tags text[], groups text[], attributes jsonb, created_at timestamptz)
             RETURNING *`,
            [json(rows.slice(i, i + INSERT_CHUNK))],
          );
          for (const r of inserted) made.set(r.id, toEntity(r));
        }
      });
    } catch (e) {
      const dup = uniqueViolation(e);
      if (dup?.constraint === 'devices_pkey') {
        const id = /^Key \(id\)=\((.*)\) already exists/.exec(dup.detail)?.[1] ?? '?';
        throw new StoreError('DEVICE_EXISTS', `device '${id}' already exists`);
      }
      throw e;
    }
    return devices.map((d) => made.get(d.id)!);
  }

  async discardNew(ids: string[]): Promise<number> {
    if (ids.length === 0) return 0;
    return withTx(this.pool, async (c) => {
      const { rows } = await c.query(
        'DELETE FROM devices WHERE id = ANY($1::text[]) AND last_seen_at IS NULL AND reported IS NULL RETURNING id',
        [ids],
      );
      const gone = rows.map((r) => r.id as string);
      if (gone.length) await c.query('DELETE FROM device_events WHERE device_id = ANY($1::text[])', [gone]);
      return gone.length;
    });
  }

  async get(id: string): Promise<Device | null> {
    const { rows } = await this.pool.query('SELECT * FROM devices WHERE id = $1', [id]);
    return rows[0] ? toEntity(rows[0]) : null;
  }

  async credential(id: string): Promise<DeviceCredential | null> {
    const r = (
      await this.pool.query(
        `SELECT token_hash, revoked_at, groups, credential_generation, prev_token_hash, prev_token_until,
      COALESCE(credential_at, created_at) AS issued_at, public_key FROM devices WHERE id = $1`,
        [id],
      )
    ).rows[0];
    return r
      ? {
          tokenHash: r.token_hash,
          revoked: r.revoked_at != null,
          groups: r.groups,
          generation: r.credential_generation,
          previousHash: r.prev_token_hash ?? null,
          previousUntil: isoOrNull(r.prev_token_until),
          issuedAt: iso(r.issued_at),
          publicKey: r.public_key ?? null,
        }
      : null;
  }

  async rotateCredentials(
    ids: string[],
    previousUntil: string,
    hashOf: (id: string, generation: number) => string,
    at = now(),
  ): Promise<{ id: string; generation: number }[]> {
    if (ids.length === 0) return [];
    return withTx(this.pool, async (c) => {
      const rows = await lockInOrder(c, [...new Set(ids)], 'AND revoked_at IS NULL');
      const changes = rows.map((r) => ({ id: r.id as string, generation: (r.credential_generation as number) + 1 }));
      await c.query(
        `UPDATE devices d SET prev_token_hash = d.token_hash, prev_token_until = $2, token_hash = x.token_hash, credential_generation = x.generation,
           credential_at = $3
         FROM jsonb_to_recordset($1::jsonb) AS x(id text, token_hash text, generation int) WHERE d.id = x.id`,
        [json(changes.map((ch) => ({ ...ch, token_hash: hashOf(ch.id, ch.generation) }))), previousUntil, at],
      );
      return changes;
    });
  }

  async credentialsDue(before: string, limit: number): Promise<string[]> {
    const { rows } = await this.pool.query(
      `SELECT id FROM devices WHERE revoked_at IS NULL AND COALESCE(credential_at, created_at) < $1
      ORDER BY COALESCE(credential_at, created_at), id LIMIT $2`,
      [before, Math.max(0, Math.trunc(limit))],
    );
    return rows.map((r) => r.id as string);
  }

  async endOverlap(id: string): Promise<void> {
    await this.pool.query(
      'UPDATE devices SET prev_token_hash = NULL, prev_token_until = NULL WHERE id = $1 AND prev_token_hash IS NOT NULL',
      [id],
    );
  }

  async list(filter: DeviceFilter & { after?: string; limit?: number } = {}): Promise<DevicePage> {
    const limit = Math.min(Math.max(1, Math.trunc(filter.limit ?? 100)), 1000);
    const { args, p } = params();
    const where = whereOf(filter, p);
    if (filter.after) where.push(`id > ${p(filter.after)}`);
    const { rows } = await this.pool.query(`SELECT * FROM devices WHERE ${where.join(' AND ')} ORDER BY id LIMIT ${p(limit + 1)}`, args);
    const devices = rows.slice(0, limit).map(toEntity);
    return { devices, next: rows.length > limit ? devices[devices.length - 1]!.id : null };
  }

  async count(filter: DeviceFilter = {}): Promise<number> {
    const { args, p } = params();
    const where = whereOf(filter, p);
    return num((await this.pool.query(`SELECT COUNT(*) AS n FROM devices WHERE ${where.join(' AND ')}`, args)).rows[0].n);
  }

  async update(
    id: string,
    patch: { name?: string; tags?: string[]; groups?: string[]; attributes?: Record<string, string> },
  ): Promise<Device | null> {
    return withTx(this.pool, async (c) => {
      const cur = (await lockInOrder(c, [id]))[0];
      if (!cur) return null;
      const d = toEntity(cur);
      const { rows } = await c.query(
        'UPDATE devices SET name = $2, tags = $3::text[], groups = $4::text[], attributes = $5::jsonb WHERE id = $1 RETURNING *',
        [
          id,
          patch.name ?? d.name,
          patch.tags ? unique(patch.tags) : d.tags,
          patch.groups ? unique(patch.groups) : d.groups,
          json(patch.attributes ?? d.attributes),
        ],
      );
      return toEntity(rows[0]);
    });
  }

  async revoke(id: string): Promise<boolean> {
    const r = await this.pool.query(
      'UPDATE devices SET revoked_at = $2, online = false, prev_token_hash = NULL, prev_token_until = NULL WHERE id = $1 AND revoked_at IS NULL',
      [id, now()],
    );
    return (r.rowCount ?? 0) > 0;
  }

  async setPresence(id: string, p: { online: boolean; session?: number; at: string }): Promise<boolean> {
    // One statement: PostgreSQL re-checks `session <= $4` on the newest row version, so a stale will loses
    // even when another process updates the same device at the same moment.
    const r =
      p.session === undefined
        ? await this.pool.query('UPDATE devices SET online = $2, last_seen_at = $3 WHERE id = $1', [id, p.online, p.at])
        : await this.pool.query('UPDATE devices SET online = $2, last_seen_at = $3, session = $4 WHERE id = $1 AND session <= $4', [
            id,
            p.online,
            p.at,
            p.session,
          ]);
    return (r.rowCount ?? 0) > 0;
  }

  async touch(seen: ReadonlyMap<string, string>): Promise<void> {
    if (seen.size === 0) return;
    const entries = [...seen].map(([id, at]) => ({ id, at }));
    await withTx(this.pool, async (c) => {
      await c.query('SELECT 1 FROM devices WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE', [entries.map((e) => e.id)]);
      await c.query(
        `UPDATE devices d SET last_seen_at = x.at FROM jsonb_to_recordset($1::jsonb) AS x(id text, at timestamptz)
        WHERE d.id = x.id AND (d.last_seen_at IS NULL OR d.last_seen_at < x.at)`,
        [json(entries)],
      );
    });
  }

  async setReported(id: string, reported: Record<string, unknown>, at: string): Promise<void> {
    const state = typeof reported.state === 'string' ? reported.state : null;
    await this.pool.query(
      'UPDATE devices SET reported = $2::json, reported_at = $3, model_version = $4, deploy_state = $5, last_seen_at = $3 WHERE id = $1',
      [id, jsonText(reported), at, modelVersionOf(reported), state],
    );
  }

  async setDesired(
    ids: string[],
    make: (rev: number, device: Device) => Record<string, unknown>,
    bundleId: string | null,
  ): Promise<Map<string, Record<string, unknown>>> {
    const out = new Map<string, Record<string, unknown>>();
    if (ids.length === 0) return out;
    await withTx(this.pool, async (c) => {
      // Row locks taken before reading the revision: a second process's setDesired on the same device waits
      // here and then reads the revision this one wrote, so revisions are unique and strictly increasing.
      const current = new Map(
        (await lockInOrder(c, [...new Set(ids)], 'AND revoked_at IS NULL')).map((r) => [r.id as string, toEntity(r)]),
      );
      for (const id of ids) {
        const d = current.get(id);
        if (!d) continue;
        const desired = make(d.desiredRev + 1, d);
        current.set(id, { ...d, desired, desiredRev: d.desiredRev + 1, desiredBundleId: bundleId });
        out.set(id, desired);
      }
      if (out.size === 0) return;
      const updates = [...out.keys()].map((id) => ({ id, rev: current.get(id)!.desiredRev, desired: out.get(id) }));
      await c.query(
        `UPDATE devices d SET desired = x.desired, desired_rev = x.rev, desired_bundle = $2
        FROM json_to_recordset($1::json) AS x(id text, rev integer, desired json) WHERE d.id = x.id`,
        [jsonText(updates), bundleId],
      );
    });
    return out;
  }

  async listDesired(after: string | null, limit: number): Promise<{ id: string; desired: Record<string, unknown> }[]> {
    const { rows } = await this.pool.query(
      'SELECT id, desired FROM devices WHERE desired IS NOT NULL AND revoked_at IS NULL AND id > $1 ORDER BY id LIMIT $2',
      [after ?? '', limit],
    );
    return rows.map((r) => ({ id: r.id, desired: r.desired }));
  }

  async resetPresence(): Promise<void> {
    await this.pool.query('UPDATE devices SET online = false WHERE id IN (SELECT id FROM devices WHERE online ORDER BY id FOR UPDATE)');
  }

  async addEvent(e: Omit<DeviceEvent, 'id'>): Promise<void> {
    await this.addEvents([e]);
  }

  async addEvents(events: readonly Omit<DeviceEvent, 'id'>[]): Promise<void> {
    if (events.length === 0) return;
    // One statement for the whole batch (unnest keeps the order of the arrays, so ids follow it).
    const { rows } = await this.pool.query(
      `INSERT INTO device_events (device_id, at, kind, detail)
      SELECT d, a, k, x::json FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[]) WITH ORDINALITY AS t(d, a, k, x, n)
      ORDER BY n RETURNING id, device_id`,
      [events.map((e) => e.deviceId), events.map((e) => e.at), events.map((e) => e.kind), events.map((e) => jsonText(e.detail))],
    );
    // Prune rarely: only for a device whose insert could have pushed it past the bound.
    const due = new Set<string>(rows.filter((r) => num(r.id) % 50 === 0).map((r) => r.device_id as string));
    for (const deviceId of due) {
      await this.pool.query(
        `DELETE FROM device_events WHERE device_id = $1 AND id <= (
        SELECT id FROM device_events WHERE device_id = $1 ORDER BY id DESC LIMIT 1 OFFSET $2)`,
        [deviceId, EVENTS_KEPT],
      );
    }
  }

  async pruneEvents(before: string, limit: number): Promise<number> {
    const { rowCount } = await this.pool.query(
      'DELETE FROM device_events WHERE id IN (SELECT id FROM device_events WHERE at < $1 ORDER BY at LIMIT $2)',
      [before, Math.max(0, Math.floor(limit))],
    );
    return rowCount ?? 0;
  }

  async events(id: string, limit = 50): Promise<DeviceEvent[]> {
    const { rows } = await this.pool.query('SELECT * FROM device_events WHERE device_id = $1 ORDER BY id DESC LIMIT $2', [
      id,
      Math.min(limit, EVENTS_KEPT),
    ]);
    return rows.map((r) => ({ id: num(r.id), deviceId: r.device_id, at: iso(r.at), kind: r.kind, detail: r.detail ?? null }));
  }
}

/** WHERE terms for a filter; tags and groups are GIN-indexed array containment. */
function whereOf(f: DeviceFilter, p: (v: unknown) => string): string[] {
  const where: string[] = [f.revoked ? 'revoked_at IS NOT NULL' : 'revoked_at IS NULL'];
  if (f.tag !== undefined) where.push(`tags @> ARRAY[${p(f.tag)}::text]`);
  if (f.group !== undefined) where.push(`groups @> ARRAY[${p(f.group)}::text]`);
  if (f.online !== undefined) where.push(`online = ${p(f.online)}`);
  if (f.modelVersion !== undefined)
    where.push(f.modelVersion === 'none' ? 'model_version IS NULL' : `model_version = ${p(f.modelVersion)}`);
  if (f.deployState !== undefined) where.push(`deploy_state = ${p(f.deployState)}`);
  return where;
}

export function unique(xs: string[] | undefined): string[] {
  return [...new Set(xs ?? [])].sort();
}

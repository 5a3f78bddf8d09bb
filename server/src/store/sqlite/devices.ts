// SQLite DeviceStore: the fleet registry, presence, reported and desired state, and each device's timeline.
import type { Device, DeviceEvent, DeviceFilter, NewDevice } from '../entities.ts';
import { StoreError } from '../store-error.ts';
import type { DeviceCredential, DevicePage, DeviceStore } from '../store.ts';
import type { Statement } from 'better-sqlite3';
import { toDevice } from '../entity-rows.ts';
import { type Db, json, now, parse, SQLITE_COLUMNS } from './db.ts';

type Row = Record<string, unknown>;

/** Events kept per device; older ones are pruned as new ones arrive. */
const EVENTS_KEPT = 500;

export const toEntity = (r: Row): Device => toDevice(r, SQLITE_COLUMNS);

/** `name@version` of a reported model, or null; used as an indexed filter column. */
function modelVersionOf(reported: Record<string, unknown>): string | null {
  const m = reported.model as { name?: unknown; version?: unknown } | null | undefined;
  return m && typeof m.name === 'string' && typeof m.version === 'string' ? `${m.name}@${m.version}` : null;
}

export class SqliteDeviceStore implements DeviceStore {
  private insertEvent: Statement | null = null;

  constructor(private readonly db: Db) {}

  async createMany(devices: NewDevice[]): Promise<Device[]> {
    const at = now();
    const insert = this.db.prepare(`INSERT INTO devices (id, token_hash, name, tags, groups, attributes, created_at)
      VALUES (?, ?, ?, ?, ?, ?, ?)`);
    const exists = this.db.prepare('SELECT 1 FROM devices WHERE id = ?');
    const select = this.db.prepare('SELECT * FROM devices WHERE id = ?');
    // Statements prepared once per batch, not per row: preparing dominated a 500-device batch.
    const labels = this.labelStatements();
    this.db.transaction(() => {
      for (const d of devices) {
        if (exists.get(d.id)) throw new StoreError('DEVICE_EXISTS', `device '${d.id}' already exists`);
        insert.run(d.id, d.tokenHash, d.name ?? d.id, json(unique(d.tags)), json(unique(d.groups)), json(d.attributes ?? {}), at);
        this.writeLabels(d.id, unique(d.tags), unique(d.groups), labels);
      }
    })();
    return devices.map((d) => toEntity(select.get(d.id) as Row));
  }

  async discardNew(ids: string[]): Promise<number> {
    const del = this.db.prepare('DELETE FROM devices WHERE id = ? AND last_seen_at IS NULL AND reported IS NULL');
    const events = this.db.prepare('DELETE FROM device_events WHERE device_id = ?');
    // Labels go with the row (ON DELETE CASCADE); events have no foreign key.
    return this.db.transaction(() =>
      ids.reduce((n, id) => {
        const gone = del.run(id).changes;
        if (gone) events.run(id);
        return n + gone;
      }, 0),
    )();
  }

  async get(id: string): Promise<Device | null> {
    const r = this.db.prepare('SELECT * FROM devices WHERE id = ?').get(id) as Row | undefined;
    return r ? toEntity(r) : null;
  }

  async credential(id: string): Promise<DeviceCredential | null> {
    const r = this.db
      .prepare(
        `SELECT token_hash, revoked_at, groups, credential_generation, prev_token_hash, prev_token_until,
      COALESCE(credential_at, created_at) AS issued_at, public_key FROM devices WHERE id = ?`,
      )
      .get(id) as Row | undefined;
    return r
      ? {
          tokenHash: r.token_hash as string,
          revoked: r.revoked_at != null,
          groups: parse(r.groups),
          generation: r.credential_generation as number,
          previousHash: (r.prev_token_hash as string) ?? null,
          previousUntil: (r.prev_token_until as string) ?? null,
          issuedAt: r.issued_at as string,
          publicKey: (r.public_key as string) ?? null,
        }
      : null;
  }

  async rotateCredentials(
    ids: string[],
    previousUntil: string,
    hashOf: (id: string, generation: number) => string,
    at = now(),
  ): Promise<{ id: string; generation: number }[]> {
    const get = this.db.prepare('SELECT credential_generation FROM devices WHERE id = ? AND revoked_at IS NULL');
    const put = this.db
      .prepare(`UPDATE devices SET prev_token_hash = token_hash, prev_token_until = ?, token_hash = ?, credential_generation = ?,
      credential_at = ? WHERE id = ?`);
    const out: { id: string; generation: number }[] = [];
    this.db.transaction(() => {
      for (const id of ids) {
        const r = get.get(id) as Row | undefined;
        if (!r) continue;
        const generation = (r.credential_generation as number) + 1;
        put.run(previousUntil, hashOf(id, generation), generation, at, id);
        out.push({ id, generation });
      }
    })();
    return out;
  }

  async credentialsDue(before: string, limit: number): Promise<string[]> {
    const rows = this.db
      .prepare(
        `SELECT id FROM devices WHERE revoked_at IS NULL AND COALESCE(credential_at, created_at) < ?
      ORDER BY COALESCE(credential_at, created_at), id LIMIT ?`,
      )
      .all(before, Math.max(0, Math.trunc(limit))) as Row[];
    return rows.map((r) => r.id as string);
  }

  async endOverlap(id: string): Promise<void> {
    this.db
      .prepare('UPDATE devices SET prev_token_hash = NULL, prev_token_until = NULL WHERE id = ? AND prev_token_hash IS NOT NULL')
      .run(id);
  }

  async list(filter: DeviceFilter & { after?: string; limit?: number } = {}): Promise<DevicePage> {
    const limit = Math.min(Math.max(1, Math.trunc(filter.limit ?? 100)), 1000);
    const { where, args } = this.where(filter);
    if (filter.after) {
      where.push('d.id > ?');
      args.push(filter.after);
    }
    const rows = this.db
      .prepare(`SELECT d.* FROM devices d WHERE ${where.join(' AND ')} ORDER BY d.id LIMIT ?`)
      .all(...args, limit + 1) as Row[];
    const devices = rows.slice(0, limit).map(toEntity);
    return { devices, next: rows.length > limit ? devices[devices.length - 1]!.id : null };
  }

  async count(filter: DeviceFilter = {}): Promise<number> {
    const { where, args } = this.where(filter);
    return (this.db.prepare(`SELECT COUNT(*) AS n FROM devices d WHERE ${where.join(' AND ')}`).get(...args) as { n: number }).n;
  }

  async update(
    id: string,
    patch: { name?: string; tags?: string[]; groups?: string[]; attributes?: Record<string, string> },
  ): Promise<Device | null> {
    return this.db.transaction(() => {
      const cur = this.db.prepare('SELECT * FROM devices WHERE id = ?').get(id) as Row | undefined;
      if (!cur) return null;
      const d = toEntity(cur);
      const tags = patch.tags ? unique(patch.tags) : d.tags;
      const groups = patch.groups ? unique(patch.groups) : d.groups;
      this.db
        .prepare('UPDATE devices SET name = ?, tags = ?, groups = ?, attributes = ? WHERE id = ?')
        .run(patch.name ?? d.name, json(tags), json(groups), json(patch.attributes ?? d.attributes), id);
      this.db.prepare('DELETE FROM device_tags WHERE device_id = ?').run(id);
      this.db.prepare('DELETE FROM device_groups WHERE device_id = ?').run(id);
      this.writeLabels(id, tags, groups);
      return toEntity(this.db.prepare('SELECT * FROM devices WHERE id = ?').get(id) as Row);
    })();
  }

  async revoke(id: string): Promise<boolean> {
    return (
      this.db
        .prepare(
          'UPDATE devices SET revoked_at = ?, online = 0, prev_token_hash = NULL, prev_token_until = NULL WHERE id = ? AND revoked_at IS NULL',
        )
        .run(now(), id).changes > 0
    );
  }

  async setPresence(id: string, p: { online: boolean; session?: number; at: string }): Promise<boolean> {
    const r =
      p.session === undefined
        ? this.db.prepare('UPDATE devices SET online = ?, last_seen_at = ? WHERE id = ?').run(p.online ? 1 : 0, p.at, id)
        : this.db
            .prepare('UPDATE devices SET online = ?, session = ?, last_seen_at = ? WHERE id = ? AND session <= ?')
            .run(p.online ? 1 : 0, p.session, p.at, id, p.session);
    return r.changes > 0;
  }

  async touch(seen: ReadonlyMap<string, string>): Promise<void> {
    const stmt = this.db.prepare('UPDATE devices SET last_seen_at = ? WHERE id = ? AND (last_seen_at IS NULL OR last_seen_at < ?)');
    this.db.transaction(() => {
      for (const [id, at] of seen) stmt.run(at, id, at);
    })();
  }

  async setReported(id: string, reported: Record<string, unknown>, at: string): Promise<void> {
    const state = typeof reported.state === 'string' ? reported.state : null;
    this.db
      .prepare('UPDATE devices SET reported = ?, reported_at = ?, model_version = ?, deploy_state = ?, last_seen_at = ? WHERE id = ?')
      .run(json(reported), at, modelVersionOf(reported), state, at, id);
  }

  async setDesired(
    ids: string[],
    make: (rev: number, device: Device) => Record<string, unknown>,
    bundleId: string | null,
  ): Promise<Map<string, Record<string, unknown>>> {
    const out = new Map<string, Record<string, unknown>>();
    const get = this.db.prepare('SELECT * FROM devices WHERE id = ? AND revoked_at IS NULL');
    const put = this.db.prepare('UPDATE devices SET desired = ?, desired_rev = ?, desired_bundle = ? WHERE id = ?');
    this.db.transaction(() => {
      for (const id of ids) {
        const r = get.get(id) as Row | undefined;
        if (!r) continue;
        const d = toEntity(r);
        const desired = make(d.desiredRev + 1, d);
        put.run(json(desired), d.desiredRev + 1, bundleId, id);
        out.set(id, desired);
      }
    })();
    return out;
  }

  async listDesired(after: string | null, limit: number): Promise<{ id: string; desired: Record<string, unknown> }[]> {
    const rows = this.db
      .prepare('SELECT id, desired FROM devices WHERE desired IS NOT NULL AND revoked_at IS NULL AND id > ? ORDER BY id LIMIT ?')
      .all(after ?? '', limit) as Row[];
    return rows.map((r) => ({ id: r.id as string, desired: parse(r.desired) }));
  }

  async resetPresence(): Promise<void> {
    this.db.prepare('UPDATE devices SET online = 0 WHERE online = 1').run();
  }

  async addEvent(e: Omit<DeviceEvent, 'id'>): Promise<void> {
    this.insertEvents([e]);
  }

  async addEvents(events: readonly Omit<DeviceEvent, 'id'>[]): Promise<void> {
    if (events.length) this.db.transaction(() => this.insertEvents(events))();
  }

  async pruneEvents(before: string, limit: number): Promise<number> {
    return this.db
      .prepare('DELETE FROM device_events WHERE id IN (SELECT id FROM device_events WHERE at < ? ORDER BY at LIMIT ?)')
      .run(before, Math.max(0, Math.floor(limit))).changes;
  }

  private insertEvents(events: readonly Omit<DeviceEvent, 'id'>[]): void {
    // Prepared once: an import adds one event per device, and preparing cost more than inserting.
    this.insertEvent ??= this.db.prepare('INSERT INTO device_events (device_id, at, kind, detail) VALUES (?, ?, ?, ?)');
    for (const e of events) {
      const r = this.insertEvent.run(e.deviceId, e.at, e.kind, json(e.detail));
      // Prune rarely: only when this insert could have pushed the device past the bound.
      if (Number(r.lastInsertRowid) % 50 === 0) {
        this.db
          .prepare(
            `DELETE FROM device_events WHERE device_id = ? AND id <= (
          SELECT id FROM device_events WHERE device_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`,
          )
          .run(e.deviceId, e.deviceId, EVENTS_KEPT);
      }
    }
  }

  async events(id: string, limit = 50): Promise<DeviceEvent[]> {
    const rows = this.db
      .prepare('SELECT * FROM device_events WHERE device_id = ? ORDER BY id DESC LIMIT ?')
      .all(id, Math.min(limit, EVENTS_KEPT)) as Row[];
    return rows.map((r) => ({
      id: r.id as number,
      deviceId: r.device_id as string,
      at: r.at as string,
      kind: r.kind as string,
      detail: parse(r.detail),
    }));
  }

  /** Writes the label index rows of one device (inside the caller's transaction). */
  private labelStatements() {
    return {
      t: this.db.prepare('INSERT INTO device_tags (tag, device_id) VALUES (?, ?)'),
      g: this.db.prepare('INSERT INTO device_groups (grp, device_id) VALUES (?, ?)'),
    };
  }

  writeLabels(id: string, tags: string[], groups: string[], { t, g } = this.labelStatements()): void {
    for (const tag of tags) t.run(tag, id);
    for (const grp of groups) g.run(grp, id);
  }

  private where(f: DeviceFilter): { where: string[]; args: unknown[] } {
    const where: string[] = [f.revoked ? 'd.revoked_at IS NOT NULL' : 'd.revoked_at IS NULL'];
    const args: unknown[] = [];
    if (f.tag !== undefined) {
      where.push('EXISTS (SELECT 1 FROM device_tags t WHERE t.tag = ? AND t.device_id = d.id)');
      args.push(f.tag);
    }
    if (f.group !== undefined) {
      where.push('EXISTS (SELECT 1 FROM device_groups g WHERE g.grp = ? AND g.device_id = d.id)');
      args.push(f.group);
    }
    if (f.online !== undefined) {
      where.push('d.online = ?');
      args.push(f.online ? 1 : 0);
    }
    if (f.modelVersion !== undefined) {
      if (f.modelVersion === 'none') where.push('d.model_version IS NULL');
      else {
        where.push('d.model_version = ?');
        args.push(f.modelVersion);
      }
    }
    if (f.deployState !== undefined) {
      where.push('d.deploy_state = ?');
      args.push(f.deployState);
    }
    return { where, args };
  }
}

export function unique(xs: string[] | undefined): string[] {
  return [...new Set(xs ?? [])].sort();
}

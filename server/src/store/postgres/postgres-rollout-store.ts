// Usage: `const rollouts = await PostgresRolloutStore.open(pool)` (runs ROLLOUT_PG_MIGRATIONS under 'rollout_migrations').
// PostgreSQL RolloutStore: rollouts, rollout_devices, rollout_events; the same rows as ../sqlite/sqlite-rollout-store.ts.
import type { RolloutDeviceState } from '../../rollouts/device-state.ts';
import { ACTIVE_STATES, type RolloutState } from '../../rollouts/rollout-machine.ts';
import type { DeviceChange, Membership, RolloutStore, RolloutWrite } from '../../rollouts/rollout-store.ts';
import type { Rollout, RolloutDevice, RolloutDeviceDetail, RolloutEventRecord } from '../../rollouts/rollout-types.ts';
import { toMembership, toRollout, toRolloutDevice as toDevice, toRolloutEvent } from '../../rollouts/rollout-row.ts';
import { migrate, withTx, type PgMigration, type Pool, type PoolClient } from './pg-db.ts';

type Row = Record<string, unknown>;

/** Timeline entries kept per (rollout, device), as in SQLite. */
const TIMELINE_KEEP = 200;

/**
 * JSON is kept as TEXT (and timelines as TEXT[] of JSON entries), not JSONB: JSONB refuses `\u0000`,
 * which a device may put in a status reason, and TEXT gives back exactly what was written.
 * Ids and device ids sort with COLLATE "C" so orders match SQLite's binary comparison.
 */
export const ROLLOUT_PG_MIGRATIONS: readonly PgMigration[] = [
  {
    id: 1,
    name: 'rollouts',
    sql: `
      CREATE TABLE rollouts (
        id TEXT PRIMARY KEY, seq BIGINT GENERATED ALWAYS AS IDENTITY, model TEXT NOT NULL, bundle_id TEXT NOT NULL, state TEXT NOT NULL,
        spec TEXT NOT NULL, runtime TEXT NOT NULL, created_by TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL
      );
      CREATE INDEX rollouts_model_state ON rollouts(model, state);
      CREATE INDEX rollouts_state ON rollouts(state);
      CREATE TABLE rollout_devices (
        rollout_id TEXT NOT NULL REFERENCES rollouts(id) ON DELETE CASCADE, device_id TEXT COLLATE "C" NOT NULL, stage INTEGER,
        hash DOUBLE PRECISION NOT NULL, state TEXT COLLATE "C" NOT NULL, previous_bundle_id TEXT, notified_at TEXT, updated_at TEXT NOT NULL,
        timeline TEXT[] NOT NULL, PRIMARY KEY (rollout_id, device_id)
      );
      CREATE INDEX rollout_devices_device ON rollout_devices(device_id);
      CREATE INDEX rollout_devices_stage ON rollout_devices(rollout_id, stage, hash);
      CREATE TABLE rollout_events (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, rollout_id TEXT NOT NULL REFERENCES rollouts(id) ON DELETE CASCADE,
        at TEXT NOT NULL, actor TEXT NOT NULL, kind TEXT NOT NULL, from_state TEXT, to_state TEXT, stage INTEGER,
        reason TEXT NOT NULL, detail TEXT
      );
      CREATE INDEX rollout_events_rollout ON rollout_events(rollout_id, id);
    `,
  },
];

const json = (v: unknown): string => JSON.stringify(v ?? null);
const num = (v: unknown): number | null => (v == null ? null : Number(v));

const DEVICE_COLS = 'rollout_id, device_id, stage, hash, state, previous_bundle_id, notified_at, updated_at';

/** Appends one entry, dropping the oldest when the timeline is full. */
const APPEND = `(CASE WHEN cardinality(d.timeline) >= ${TIMELINE_KEEP} THEN d.timeline[2:] ELSE d.timeline END) || c.entry`;

export class PostgresRolloutStore implements RolloutStore {
  constructor(private readonly pool: Pool) {}

  /** Migrates the rollout tables and returns a store on `pool`. */
  static async open(pool: Pool): Promise<PostgresRolloutStore> {
    await migrate(pool, 'rollout_migrations', ROLLOUT_PG_MIGRATIONS);
    return new PostgresRolloutStore(pool);
  }

  async write(w: RolloutWrite): Promise<void> {
    await withTx(this.pool, async (c) => {
      if (w.rollout) await putRollout(c, w.rollout);
      const add = w.addDevices ?? [];
      if (add.length) {
        const d = add.map((a) => a.device);
        await c.query(
          `INSERT INTO rollout_devices (${DEVICE_COLS}, timeline)
            SELECT r, dv, s, h, st, p, n, u, ARRAY[t] FROM unnest($1::text[], $2::text[], $3::int[], $4::float8[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
              AS x(r, dv, s, h, st, p, n, u, t)`,
          [
            d.map((x) => x.rolloutId),
            d.map((x) => x.deviceId),
            d.map((x) => x.stage),
            d.map((x) => x.hash),
            d.map((x) => x.state),
            d.map((x) => x.previousBundleId),
            d.map((x) => x.notifiedAt),
            d.map((x) => x.updatedAt),
            add.map((a) => json(a.entry)),
          ],
        );
      }
      await applyChanges(c, w.changes ?? []);
      const ev = w.events ?? [];
      if (ev.length) {
        // Ids follow the order of the write (ORDER BY the ordinality), as events are read back by id.
        await c.query(
          `INSERT INTO rollout_events (rollout_id, at, actor, kind, from_state, to_state, stage, reason, detail)
            SELECT a, b, c, d, e, f, g, h, i
            FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[], $8::text[], $9::text[]) WITH ORDINALITY AS x(a, b, c, d, e, f, g, h, i, o)
            ORDER BY o`,
          [
            ev.map((e) => e.rolloutId),
            ev.map((e) => e.at),
            ev.map((e) => e.actor),
            ev.map((e) => e.kind),
            ev.map((e) => e.from),
            ev.map((e) => e.to),
            ev.map((e) => e.stage),
            ev.map((e) => e.reason),
            ev.map((e) => json(e.detail)),
          ],
        );
      }
    });
  }

  async get(id: string): Promise<Rollout | null> {
    const { rows } = await this.pool.query('SELECT * FROM rollouts WHERE id = $1', [id]);
    return rows[0] ? toRollout(rows[0] as Row) : null;
  }

  async list(filter: { states?: readonly RolloutState[]; model?: string; limit?: number } = {}): Promise<Rollout[]> {
    const { rows } = await this.pool.query(
      `SELECT * FROM rollouts WHERE ($1::text[] IS NULL OR state = ANY($1)) AND ($2::text IS NULL OR model = $2)
        ORDER BY created_at DESC, seq DESC LIMIT $3`,
      [filter.states ?? null, filter.model ?? null, filter.limit ?? 100],
    );
    return rows.map(toRollout);
  }

  async devices(rolloutId: string, filter: { stage?: number; states?: readonly RolloutDeviceState[] } = {}): Promise<RolloutDevice[]> {
    const { rows } = await this.pool.query(
      `SELECT ${DEVICE_COLS} FROM rollout_devices
        WHERE rollout_id = $1 AND ($2::int IS NULL OR stage = $2) AND ($3::text[] IS NULL OR state = ANY($3))
        ORDER BY stage IS NULL, stage, hash, device_id`,
      [rolloutId, filter.stage ?? null, filter.states ?? null],
    );
    return rows.map(toDevice);
  }

  async device(rolloutId: string, deviceId: string): Promise<RolloutDeviceDetail | null> {
    const { rows } = await this.pool.query('SELECT * FROM rollout_devices WHERE rollout_id = $1 AND device_id = $2', [rolloutId, deviceId]);
    const r = rows[0] as Row | undefined;
    return r ? { ...toDevice(r), timeline: (r.timeline as string[]).map((t) => JSON.parse(t)) } : null;
  }

  async memberships(deviceId: string): Promise<Membership[]> {
    const { rows } = await this.pool.query(
      `SELECT d.${DEVICE_COLS.split(', ').join(', d.')}, r.state AS rollout_state, r.model, r.bundle_id
        FROM rollout_devices d JOIN rollouts r ON r.id = d.rollout_id WHERE d.device_id = $1 ORDER BY r.created_at DESC, r.seq DESC`,
      [deviceId],
    );
    return (rows as Row[]).map(toMembership);
  }

  async claimant(deviceId: string, bundleId: string | null): Promise<Membership | null> {
    // claims() in SQL: rows of rollouts the device was let go of, or only planned in, never match.
    const { rows } = await this.pool.query(
      `SELECT d.${DEVICE_COLS.split(', ').join(', d.')}, r.state AS rollout_state, r.model, r.bundle_id
        FROM rollout_devices d JOIN rollouts r ON r.id = d.rollout_id
        WHERE d.device_id = $1 AND (
          (d.state IN ('rollback_pending', 'rolled_back') AND d.previous_bundle_id IS NOT DISTINCT FROM $2)
          OR (d.state NOT IN ('rollback_pending', 'rolled_back', 'planned', 'excluded', 'superseded') AND r.bundle_id IS NOT DISTINCT FROM $2))
        ORDER BY r.created_at DESC, r.seq DESC LIMIT 1`,
      [deviceId, bundleId],
    );
    return rows.length ? toMembership(rows[0] as Row) : null;
  }

  async holders(model: string, deviceIds: readonly string[], exceptRolloutId?: string): Promise<{ deviceId: string; rolloutId: string }[]> {
    if (deviceIds.length === 0) return [];
    const { rows } = await this.pool.query(
      `SELECT d.device_id, d.rollout_id FROM rollout_devices d JOIN rollouts r ON r.id = d.rollout_id
        WHERE r.model = $1 AND r.state = ANY($2) AND r.id IS DISTINCT FROM $3
          AND d.state NOT IN ('excluded', 'superseded') AND d.device_id = ANY($4)
        ORDER BY d.device_id`,
      [model, ACTIVE_STATES, exceptRolloutId ?? null, deviceIds],
    );
    return (rows as Row[]).map((r) => ({ deviceId: r.device_id as string, rolloutId: r.rollout_id as string }));
  }

  async counts(rolloutId: string): Promise<{ stage: number | null; state: RolloutDeviceState; count: number }[]> {
    const { rows } = await this.pool.query(
      `SELECT stage, state, COUNT(*) AS n FROM rollout_devices WHERE rollout_id = $1
        GROUP BY stage, state ORDER BY stage IS NULL, stage, state`,
      [rolloutId],
    );
    return (rows as Row[]).map((r) => ({ stage: num(r.stage), state: r.state as RolloutDeviceState, count: Number(r.n) }));
  }

  async events(rolloutId: string, limit = 500): Promise<RolloutEventRecord[]> {
    const { rows } = await this.pool.query(
      'SELECT * FROM (SELECT * FROM rollout_events WHERE rollout_id = $1 ORDER BY id DESC LIMIT $2) e ORDER BY id',
      [rolloutId, limit],
    );
    return (rows as Row[]).map(toRolloutEvent);
  }
}

async function putRollout(c: PoolClient, r: Rollout): Promise<void> {
  const spec = json({ bundle: r.bundle, target: r.target, stages: r.stages, policy: r.policy, reason: r.reason });
  const runtime = json({ current: r.current, runtime: r.runtime });
  await c.query(
    `INSERT INTO rollouts (id, model, bundle_id, state, spec, runtime, created_by, created_at, updated_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
      ON CONFLICT (id) DO UPDATE SET state = excluded.state, runtime = excluded.runtime, updated_at = excluded.updated_at`,
    [r.id, r.model, r.bundle.id, r.state, spec, runtime, r.createdBy, r.createdAt, r.updatedAt],
  );
}

/**
 * One UPDATE for the whole batch when each device appears once (a notify step touches thousands);
 * a device changed twice in one write is applied change by change, so both entries reach its timeline.
 */
async function applyChanges(c: PoolClient, changes: readonly DeviceChange[]): Promise<void> {
  if (changes.length === 0) return;
  const keys = new Set(changes.map((x) => `${x.rolloutId}\u0000${x.deviceId}`));
  const batches = keys.size === changes.length ? [changes] : changes.map((x) => [x]);
  for (const b of batches) {
    await c.query(
      `UPDATE rollout_devices d SET state = c.state, updated_at = c.at,
        previous_bundle_id = CASE WHEN c.set_prev THEN c.prev ELSE d.previous_bundle_id END, notified_at = COALESCE(c.notified, d.notified_at),
        timeline = ${APPEND}
      FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bool[], $6::text[], $7::text[], $8::text[]) AS c(rollout_id, device_id, state, at, set_prev, prev, notified, entry)
      WHERE d.rollout_id = c.rollout_id AND d.device_id = c.device_id`,
      [
        b.map((x) => x.rolloutId),
        b.map((x) => x.deviceId),
        b.map((x) => x.state),
        b.map((x) => x.entry.at),
        b.map((x) => x.previousBundleId !== undefined),
        b.map((x) => x.previousBundleId ?? null),
        b.map((x) => x.notifiedAt ?? null),
        b.map((x) => json(x.entry)),
      ],
    );
  }
}

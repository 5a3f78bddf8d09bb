// SQLite RolloutStore (tables from migration 3): rollouts, rollout_devices, rollout_events.
import type { RolloutDeviceState } from '../../rollouts/device-state.ts';
import type { RolloutState } from '../../rollouts/rollout-machine.ts';
import type { Membership, RolloutStore, RolloutWrite } from '../../rollouts/rollout-store.ts';
import { toMembership, toRollout, toRolloutDevice as toDevice, toRolloutEvent } from '../../rollouts/rollout-row.ts';
import type { Rollout, RolloutDevice, RolloutDeviceDetail, RolloutEventRecord } from '../../rollouts/rollout-types.ts';
import { ACTIVE_STATES } from '../../rollouts/rollout-machine.ts';
import { type Db, json, parse } from './db.ts';

type Row = Record<string, unknown>;

/** Timeline entries kept per (rollout, device): enough for a story, bounded against a chatty agent. */
const TIMELINE_KEEP = 200;

export class SqliteRolloutStore implements RolloutStore {
  constructor(private readonly db: Db) {}

  async write(w: RolloutWrite): Promise<void> {
    this.db.transaction(() => {
      if (w.rollout) this.putRollout(w.rollout);
      const add = this.db
        .prepare(`INSERT INTO rollout_devices (rollout_id, device_id, stage, hash, state, previous_bundle_id, notified_at, updated_at, timeline)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
      for (const { device: d, entry } of w.addDevices ?? []) {
        add.run(d.rolloutId, d.deviceId, d.stage, d.hash, d.state, d.previousBundleId, d.notifiedAt, d.updatedAt, json([entry]));
      }
      const change = this.db.prepare(`UPDATE rollout_devices SET state = ?, updated_at = ?,
          previous_bundle_id = CASE WHEN ? THEN ? ELSE previous_bundle_id END, notified_at = COALESCE(?, notified_at),
          timeline = json_insert(CASE WHEN json_array_length(timeline) >= ${TIMELINE_KEEP} THEN json_remove(timeline, '$[0]') ELSE timeline END, '$[#]', json(?))
        WHERE rollout_id = ? AND device_id = ?`);
      for (const c of w.changes ?? []) {
        const setPrev = c.previousBundleId !== undefined ? 1 : 0;
        change.run(c.state, c.entry.at, setPrev, c.previousBundleId ?? null, c.notifiedAt ?? null, json(c.entry), c.rolloutId, c.deviceId);
      }
      const ev = this.db.prepare(
        'INSERT INTO rollout_events (rollout_id, at, actor, kind, from_state, to_state, stage, reason, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      );
      for (const e of w.events ?? []) ev.run(e.rolloutId, e.at, e.actor, e.kind, e.from, e.to, e.stage, e.reason, json(e.detail));
    })();
  }

  private putRollout(r: Rollout): void {
    const spec = json({ bundle: r.bundle, target: r.target, stages: r.stages, policy: r.policy, reason: r.reason });
    const runtime = json({ current: r.current, runtime: r.runtime });
    this.db
      .prepare(
        `INSERT INTO rollouts (id, model, bundle_id, state, spec, runtime, created_by, created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT(id) DO UPDATE SET state = excluded.state, runtime = excluded.runtime, updated_at = excluded.updated_at`,
      )
      .run(r.id, r.model, r.bundle.id, r.state, spec, runtime, r.createdBy, r.createdAt, r.updatedAt);
  }

  async get(id: string): Promise<Rollout | null> {
    const r = this.db.prepare('SELECT * FROM rollouts WHERE id = ?').get(id) as Row | undefined;
    return r ? toRollout(r) : null;
  }

  async list(filter: { states?: readonly RolloutState[]; model?: string; limit?: number } = {}): Promise<Rollout[]> {
    const rows = this.db
      .prepare(
        `SELECT * FROM rollouts
        WHERE (? IS NULL OR state IN (SELECT value FROM json_each(?))) AND (? IS NULL OR model = ?)
        ORDER BY created_at DESC, rowid DESC LIMIT ?`,
      )
      .all(filter.states ? 1 : null, json(filter.states ?? []), filter.model ?? null, filter.model ?? null, filter.limit ?? 100) as Row[];
    return rows.map(toRollout);
  }

  async devices(rolloutId: string, filter: { stage?: number; states?: readonly RolloutDeviceState[] } = {}): Promise<RolloutDevice[]> {
    const rows = this.db
      .prepare(
        `SELECT rollout_id, device_id, stage, hash, state, previous_bundle_id, notified_at, updated_at FROM rollout_devices
        WHERE rollout_id = ? AND (? IS NULL OR stage = ?) AND (? IS NULL OR state IN (SELECT value FROM json_each(?)))
        ORDER BY stage IS NULL, stage, hash, device_id`,
      )
      .all(rolloutId, filter.stage ?? null, filter.stage ?? null, filter.states ? 1 : null, json(filter.states ?? [])) as Row[];
    return rows.map(toDevice);
  }

  async device(rolloutId: string, deviceId: string): Promise<RolloutDeviceDetail | null> {
    const r = this.db.prepare('SELECT * FROM rollout_devices WHERE rollout_id = ? AND device_id = ?').get(rolloutId, deviceId) as
      Row | undefined;
    return r ? { ...toDevice(r), timeline: parse(r.timeline) } : null;
  }

  async memberships(deviceId: string): Promise<Membership[]> {
    // Not d.*: the timeline (up to 200 JSON entries) of every rollout the device was ever in is not needed here.
    const rows = this.db
      .prepare(
        `SELECT d.rollout_id, d.device_id, d.stage, d.hash, d.state, d.previous_bundle_id, d.notified_at, d.updated_at,
        r.state AS rollout_state, r.model, r.bundle_id FROM rollout_devices d JOIN rollouts r ON r.id = d.rollout_id
        WHERE d.device_id = ? ORDER BY r.created_at DESC, r.rowid DESC`,
      )
      .all(deviceId) as Row[];
    return rows.map(toMembership);
  }

  async claimant(deviceId: string, bundleId: string | null): Promise<Membership | null> {
    // claims() in SQL: rows of rollouts the device was let go of, or only planned in, never match.
    const r = this.db
      .prepare(
        `SELECT d.rollout_id, d.device_id, d.stage, d.hash, d.state, d.previous_bundle_id, d.notified_at, d.updated_at,
        r.state AS rollout_state, r.model, r.bundle_id FROM rollout_devices d JOIN rollouts r ON r.id = d.rollout_id
        WHERE d.device_id = ? AND (
          (d.state IN ('rollback_pending', 'rolled_back') AND d.previous_bundle_id IS ?)
          OR (d.state NOT IN ('rollback_pending', 'rolled_back', 'planned', 'excluded', 'superseded') AND r.bundle_id IS ?))
        ORDER BY r.created_at DESC, r.rowid DESC LIMIT 1`,
      )
      .get(deviceId, bundleId, bundleId) as Row | undefined;
    return r ? toMembership(r) : null;
  }

  async holders(model: string, deviceIds: readonly string[], exceptRolloutId?: string): Promise<{ deviceId: string; rolloutId: string }[]> {
    if (deviceIds.length === 0) return [];
    const rows = this.db
      .prepare(
        `SELECT d.device_id, d.rollout_id FROM rollout_devices d JOIN rollouts r ON r.id = d.rollout_id
        WHERE r.model = ? AND r.state IN (SELECT value FROM json_each(?)) AND r.id IS NOT ?
          AND d.state NOT IN ('excluded', 'superseded') AND d.device_id IN (SELECT value FROM json_each(?))
        ORDER BY d.device_id`,
      )
      .all(model, json(ACTIVE_STATES), exceptRolloutId ?? null, json(deviceIds)) as Row[];
    return rows.map((r) => ({ deviceId: r.device_id as string, rolloutId: r.rollout_id as string }));
  }

  async counts(rolloutId: string): Promise<{ stage: number | null; state: RolloutDeviceState; count: number }[]> {
    const rows = this.db
      .prepare(
        `SELECT stage, state, COUNT(*) AS n FROM rollout_devices WHERE rollout_id = ?
        GROUP BY stage, state ORDER BY stage IS NULL, stage, state`,
      )
      .all(rolloutId) as Row[];
    return rows.map((r) => ({ stage: (r.stage as number | null) ?? null, state: r.state as RolloutDeviceState, count: r.n as number }));
  }

  async events(rolloutId: string, limit = 500): Promise<RolloutEventRecord[]> {
    const rows = this.db
      .prepare('SELECT * FROM (SELECT * FROM rollout_events WHERE rollout_id = ? ORDER BY id DESC LIMIT ?) ORDER BY id')
      .all(rolloutId, limit) as Row[];
    return rows.map(toRolloutEvent);
  }
}

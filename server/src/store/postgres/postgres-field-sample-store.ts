// Usage: `const samples = await PostgresFieldSampleStore.open(pool)` (runs FIELD_SAMPLE_PG_MIGRATIONS under 'field_sample_migrations').
// PostgreSQL FieldSampleStore: the field_samples table of ../sqlite/sqlite-field-sample-store.ts, safe with several ingesting processes.
import type {
  FieldSample,
  FieldSampleInfo,
  FieldSampleStore,
  LabelledQuery,
  OperatorLabel,
  SampleListQuery,
} from '../../retraining/field-sample-store.ts';
import { toFieldSample, toFieldSampleInfo, type FieldSampleInfoRow, type FieldSampleRow } from '../../retraining/field-sample-row.ts';
import { migrate, withTx, type PgMigration, type Pool } from './pg-db.ts';

/** Keys and times sort with COLLATE "C", as SQLite compares them (ISO times order correctly byte by byte). */
export const FIELD_SAMPLE_PG_MIGRATIONS: readonly PgMigration[] = [
  {
    id: 1,
    name: 'field_samples',
    sql: `
      CREATE TABLE field_samples (
        device_id TEXT COLLATE "C" NOT NULL, prediction_id TEXT COLLATE "C" NOT NULL, cohorts TEXT[] NOT NULL, model TEXT NOT NULL,
        input BYTEA NOT NULL, shape INTEGER[] NOT NULL, prediction INTEGER NOT NULL, confidence DOUBLE PRECISION NOT NULL,
        label INTEGER, at TEXT COLLATE "C" NOT NULL, received_ms BIGINT NOT NULL,
        PRIMARY KEY (device_id, prediction_id)
      );
      CREATE INDEX field_samples_labelled ON field_samples(model, at) WHERE label IS NOT NULL;
    `,
  },
  {
    // 9, as the metadata migration of the same change (ids may leave gaps).
    id: 9,
    name: 'feedback_source',
    sql: 'ALTER TABLE field_samples ADD COLUMN source TEXT',
  },
];

const key = (s: FieldSample) => `${s.deviceId}\u0000${s.predictionId}`;

export class PostgresFieldSampleStore implements FieldSampleStore {
  constructor(private readonly pool: Pool) {}

  /** Migrates the field_samples table and returns a store on `pool`. */
  static async open(pool: Pool): Promise<PostgresFieldSampleStore> {
    await migrate(pool, 'field_sample_migrations', FIELD_SAMPLE_PG_MIGRATIONS);
    return new PostgresFieldSampleStore(pool);
  }

  async insertMany(samples: readonly FieldSample[]): Promise<number> {
    // Copies within the batch fold into the first (taking the first label any copy has), as SQLite's
    // row-by-row upsert would; sorted keys make two processes lock rows in the same order.
    const byKey = new Map<string, FieldSample>();
    for (const s of samples) {
      const first = byKey.get(key(s));
      if (!first) byKey.set(key(s), s);
      else if (first.label === null && s.label !== null) byKey.set(key(s), { ...first, label: s.label, source: s.source });
    }
    const rows = [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, s]) => s);
    if (rows.length === 0) return 0;
    const now = Date.now();
    return withTx(this.pool, async (c) => {
      const ins = await c.query(
        `INSERT INTO field_samples (device_id, prediction_id, cohorts, model, input, shape, prediction, confidence, label, source, at, received_ms)
          SELECT d, p, ARRAY(SELECT jsonb_array_elements_text(co::jsonb)), m, i, ARRAY(SELECT jsonb_array_elements_text(sh::jsonb)::int), pr, cf, l, so, a, $12
          FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bytea[], $6::text[], $7::int[], $8::float8[], $9::int[], $10::text[], $11::text[])
            WITH ORDINALITY AS x(d, p, co, m, i, sh, pr, cf, l, so, a, o) ORDER BY o
          ON CONFLICT (device_id, prediction_id) DO NOTHING`,
        [
          rows.map((s) => s.deviceId),
          rows.map((s) => s.predictionId),
          rows.map((s) => JSON.stringify(s.cohorts)),
          rows.map((s) => s.model),
          rows.map((s) => Buffer.from(s.input)),
          rows.map((s) => JSON.stringify(s.shape)),
          rows.map((s) => s.prediction),
          rows.map((s) => s.confidence),
          rows.map((s) => s.label),
          rows.map((s) => (s.label === null ? null : s.source)),
          rows.map((s) => s.at),
          now,
        ],
      );
      // A resend may carry a label the first copy lacked (feedback arrives late): keep the row, take the label and its source.
      const late = rows.filter((s) => s.label !== null);
      if (late.length) {
        await c.query(
          `UPDATE field_samples f SET label = x.l, source = x.so FROM unnest($1::text[], $2::text[], $3::int[], $4::text[]) AS x(d, p, l, so)
            WHERE f.device_id = x.d AND f.prediction_id = x.p AND f.label IS NULL`,
          [late.map((s) => s.deviceId), late.map((s) => s.predictionId), late.map((s) => s.label), late.map((s) => s.source)],
        );
      }
      return ins.rowCount ?? 0;
    });
  }

  private where(q: Omit<LabelledQuery, 'limit'>): { sql: string; args: unknown[] } {
    return {
      sql: `label IS NOT NULL AND ($1::text IS NULL OR model = $1) AND ($2::text IS NULL OR at >= $2) AND ($3::text IS NULL OR $3 = ANY(cohorts))
        AND ($4::text[] IS NULL OR source = ANY($4))`,
      args: [q.model ?? null, q.since ?? null, q.cohort ?? null, q.sources ? [...q.sources] : null],
    };
  }

  async labelled(q: LabelledQuery): Promise<FieldSample[]> {
    const w = this.where(q);
    const { rows } = await this.pool.query<FieldSampleRow>(
      `SELECT * FROM (SELECT * FROM field_samples WHERE ${w.sql} ORDER BY at DESC, device_id DESC, prediction_id DESC LIMIT $5) f
        ORDER BY at, device_id, prediction_id`,
      [...w.args, q.limit],
    );
    return rows.map(toFieldSample);
  }

  async countLabelled(q: Omit<LabelledQuery, 'limit'>): Promise<number> {
    const w = this.where(q);
    const { rows } = await this.pool.query<{ n: string }>(`SELECT COUNT(*) AS n FROM field_samples WHERE ${w.sql}`, w.args);
    return Number(rows[0]!.n);
  }

  async bytesReceived(deviceId: string, model: string, sinceMs: number): Promise<number> {
    // The primary key's device_id prefix bounds the scan to this device's rows.
    const { rows } = await this.pool.query(
      'SELECT COALESCE(SUM(octet_length(input)), 0)::bigint AS n FROM field_samples WHERE device_id = $1 AND model = $2 AND received_ms >= $3',
      [deviceId, model, sinceMs],
    );
    return Number(rows[0].n);
  }

  async prune(o: { receivedBefore: number; maxBytes: number }): Promise<number> {
    return withTx(this.pool, async (c) => {
      const old = await c.query('DELETE FROM field_samples WHERE received_ms < $1', [o.receivedBefore]);
      // Running total of input bytes from the newest received backwards: rows past the budget go.
      const over = await c.query(
        `DELETE FROM field_samples f USING (
          SELECT device_id, prediction_id, SUM(octet_length(input)) OVER (ORDER BY received_ms DESC, device_id DESC, prediction_id DESC) AS kept FROM field_samples
        ) k WHERE k.kept > $1 AND f.device_id = k.device_id AND f.prediction_id = k.prediction_id`,
        [o.maxBytes],
      );
      return (old.rowCount ?? 0) + (over.rowCount ?? 0);
    });
  }

  async list(q: SampleListQuery): Promise<FieldSampleInfo[]> {
    const { rows } = await this.pool.query<FieldSampleInfoRow>(
      `SELECT device_id, prediction_id, cohorts, model, shape, prediction, confidence,
        label, source, at, octet_length(input) AS input_bytes
      FROM field_samples WHERE ($1::text IS NULL OR model = $1) AND ($2::text IS NULL OR device_id = $2) AND ($3::text IS NULL OR source = $3)
        AND ($4::boolean IS NULL OR (label IS NOT NULL) = $4)
      ORDER BY at DESC, device_id DESC, prediction_id DESC LIMIT $5`,
      [q.model ?? null, q.deviceId ?? null, q.source ?? null, q.labelled ?? null, q.limit],
    );
    return rows.map(toFieldSampleInfo);
  }

  async relabel(given: readonly OperatorLabel[]): Promise<number> {
    // The last label given for a sample wins, as SQLite's row-by-row updates would have it.
    const labels = [...new Map(given.map((l) => [`${l.deviceId}\u0000${l.predictionId}`, l])).values()];
    if (labels.length === 0) return 0;
    const r = await this.pool.query(
      `UPDATE field_samples f SET label = x.l, source = 'operator' FROM unnest($1::text[], $2::text[], $3::int[]) AS x(d, p, l)
        WHERE f.device_id = x.d AND f.prediction_id = x.p`,
      [labels.map((l) => l.deviceId), labels.map((l) => l.predictionId), labels.map((l) => l.label)],
    );
    return r.rowCount ?? 0;
  }
}

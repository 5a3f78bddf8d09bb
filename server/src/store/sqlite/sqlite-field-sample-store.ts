// FieldSampleStore on SQLite (table `field_samples`, migration 5; the label's feedback source, migration 9).
import type { Db } from './db.ts';
import type {
  FieldSample,
  FieldSampleInfo,
  FieldSampleStore,
  LabelledQuery,
  OperatorLabel,
  SampleListQuery,
} from '../../retraining/field-sample-store.ts';
import { toFieldSample, toFieldSampleInfo, type FieldSampleInfoRow, type FieldSampleRow } from '../../retraining/field-sample-row.ts';

export class SqliteFieldSampleStore implements FieldSampleStore {
  private readonly insertTx;

  constructor(private readonly db: Db) {
    // A resend may carry a label the first copy lacked (feedback arrives late): keep the row, take the label and its source.
    const insert =
      db.prepare(`INSERT INTO field_samples (device_id, prediction_id, cohorts, model, input, shape, prediction, confidence, label, source, at, received_ms)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (device_id, prediction_id) DO UPDATE SET
        source = CASE WHEN field_samples.label IS NULL THEN excluded.source ELSE field_samples.source END,
        label = COALESCE(field_samples.label, excluded.label)`);
    const exists = db.prepare('SELECT 1 FROM field_samples WHERE device_id = ? AND prediction_id = ?');
    this.insertTx = db.transaction((rows: readonly FieldSample[]) => {
      let added = 0;
      const now = Date.now();
      for (const s of rows) {
        const before = exists.get(s.deviceId, s.predictionId);
        insert.run(
          s.deviceId,
          s.predictionId,
          JSON.stringify(s.cohorts),
          s.model,
          Buffer.from(s.input),
          JSON.stringify(s.shape),
          s.prediction,
          s.confidence,
          s.label,
          s.label === null ? null : s.source,
          s.at,
          now,
        );
        if (!before) added++;
      }
      return added;
    });
  }

  async insertMany(samples: readonly FieldSample[]): Promise<number> {
    return this.insertTx(samples);
  }

  private where(q: Omit<LabelledQuery, 'limit'>): { sql: string; args: unknown[] } {
    const parts = ['label IS NOT NULL'];
    const args: unknown[] = [];
    if (q.model) {
      parts.push('model = ?');
      args.push(q.model);
    }
    if (q.since) {
      parts.push('at >= ?');
      args.push(q.since);
    }
    if (q.cohort) {
      parts.push('EXISTS (SELECT 1 FROM json_each(cohorts) WHERE value = ?)');
      args.push(q.cohort);
    }
    if (q.sources) {
      parts.push('source IN (SELECT value FROM json_each(?))');
      args.push(JSON.stringify(q.sources));
    }
    return { sql: parts.join(' AND '), args };
  }

  async labelled(q: LabelledQuery): Promise<FieldSample[]> {
    const w = this.where(q);
    const rows = this.db
      .prepare(
        `SELECT * FROM (SELECT * FROM field_samples WHERE ${w.sql} ORDER BY at DESC, device_id DESC, prediction_id DESC LIMIT ?)
      ORDER BY at, device_id, prediction_id`,
      )
      .all(...w.args, q.limit) as FieldSampleRow[];
    return rows.map(toFieldSample);
  }

  async countLabelled(q: Omit<LabelledQuery, 'limit'>): Promise<number> {
    const w = this.where(q);
    return (this.db.prepare(`SELECT COUNT(*) AS n FROM field_samples WHERE ${w.sql}`).get(...w.args) as { n: number }).n;
  }

  async bytesReceived(deviceId: string, model: string, sinceMs: number): Promise<number> {
    // The primary key's device_id prefix bounds the scan to this device's rows.
    return (
      this.db
        .prepare('SELECT COALESCE(SUM(length(input)), 0) AS n FROM field_samples WHERE device_id = ? AND model = ? AND received_ms >= ?')
        .get(deviceId, model, sinceMs) as { n: number }
    ).n;
  }

  async prune(o: { receivedBefore: number; maxBytes: number }): Promise<number> {
    return this.db.transaction(() => {
      const old = this.db.prepare('DELETE FROM field_samples WHERE received_ms < ?').run(o.receivedBefore).changes;
      // Running total of input bytes from the newest received backwards: rows past the budget go.
      const over = this.db
        .prepare(
          `DELETE FROM field_samples WHERE (device_id, prediction_id) IN (
        SELECT device_id, prediction_id FROM (
          SELECT device_id, prediction_id, SUM(length(input)) OVER (ORDER BY received_ms DESC, device_id DESC, prediction_id DESC) AS kept FROM field_samples
        ) WHERE kept > ?)`,
        )
        .run(o.maxBytes).changes;
      return old + over;
    })();
  }

  async list(q: SampleListQuery): Promise<FieldSampleInfo[]> {
    const rows = this.db
      .prepare(
        `SELECT device_id, prediction_id, cohorts, model, shape, prediction, confidence, label, source, at, length(input) AS input_bytes
      FROM field_samples WHERE (@model IS NULL OR model = @model) AND (@device IS NULL OR device_id = @device) AND (@source IS NULL OR source = @source)
        AND (@labelled IS NULL OR (label IS NOT NULL) = @labelled)
      ORDER BY at DESC, device_id DESC, prediction_id DESC LIMIT @limit`,
      )
      .all({
        model: q.model ?? null,
        device: q.deviceId ?? null,
        source: q.source ?? null,
        labelled: q.labelled === undefined ? null : Number(q.labelled),
        limit: q.limit,
      }) as FieldSampleInfoRow[];
    return rows.map(toFieldSampleInfo);
  }

  async relabel(labels: readonly OperatorLabel[]): Promise<number> {
    const set = this.db.prepare("UPDATE field_samples SET label = ?, source = 'operator' WHERE device_id = ? AND prediction_id = ?");
    return this.db.transaction(() => labels.reduce((n, l) => n + set.run(l.label, l.deviceId, l.predictionId).changes, 0))();
  }
}

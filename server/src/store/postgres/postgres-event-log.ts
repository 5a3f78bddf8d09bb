// EventLog on PostgreSQL (tables `events`, `event_head`, metadata migration 6), safe with several server
// processes appending at once: the one-row `event_head` is locked by the append until commit, so sequence
// numbers are gap-free and a reader never sees N+1 before N.
import { randomUUID } from 'node:crypto';
import { envelope, type CloudEvent, type EventType, type NewEvent } from '../../events/cloud-event.ts';
import { pageSize, type EventLog } from '../../events/event-log.ts';
import { onMetadataSchema } from './metadata-schema.ts';
import { withTx, type Pool } from './pg-db.ts';
import { iso, jsonText } from './pg-values.ts';

interface Row {
  seq: string;
  id: string;
  type: EventType;
  subject: string;
  time: unknown;
  data: string;
}

const fromRow = (r: Row): CloudEvent =>
  envelope({ sequence: Number(r.seq), id: r.id, type: r.type, subject: r.subject, time: iso(r.time), data: JSON.parse(r.data) });

export class PostgresEventLog implements EventLog {
  private constructor(private readonly pool: Pool) {}

  static open = (pool: Pool): Promise<PostgresEventLog> => onMetadataSchema(pool, (p) => new PostgresEventLog(p));

  async append(e: NewEvent): Promise<CloudEvent> {
    const id = randomUUID();
    const time = new Date().toISOString();
    // TEXT, not JSONB: data is sent back byte for byte as it was stored, and may hold a \u0000.
    const data = jsonText(e.data);
    const seq = await withTx(this.pool, async (c) => {
      const { rows } = await c.query<{ seq: string }>('UPDATE event_head SET seq = seq + 1 RETURNING seq');
      await c.query('INSERT INTO events (seq, id, type, subject, time, data) VALUES ($1, $2, $3, $4, $5, $6)', [
        rows[0]!.seq,
        id,
        e.type,
        e.subject,
        time,
        data,
      ]);
      return Number(rows[0]!.seq);
    });
    return envelope({ sequence: seq, id, type: e.type, subject: e.subject, time, data: JSON.parse(data) });
  }

  async after(after: number, limit?: number): Promise<CloudEvent[]> {
    const { rows } = await this.pool.query<Row>(
      'SELECT seq, id, type, subject, time, data FROM events WHERE seq > $1 ORDER BY seq LIMIT $2',
      [after, pageSize(limit)],
    );
    return rows.map(fromRow);
  }

  async head(): Promise<number> {
    const { rows } = await this.pool.query<{ seq: string | null }>('SELECT MAX(seq) AS seq FROM events');
    return Number(rows[0]?.seq ?? 0);
  }
}

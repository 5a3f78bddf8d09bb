// EventLog on SQLite (table `events`, migration 6). One writer per file: the sequence is max + 1 inside
// the inserting transaction, so numbers are gap-free and appear in order.
import { randomUUID } from 'node:crypto';
import { envelope, type CloudEvent, type EventType, type NewEvent } from '../../events/cloud-event.ts';
import { pageSize, type EventLog } from '../../events/event-log.ts';
import type { Db } from './db.ts';

interface Row {
  seq: number;
  id: string;
  type: EventType;
  subject: string;
  time: string;
  data: string;
}

const fromRow = (r: Row): CloudEvent =>
  envelope({ sequence: r.seq, id: r.id, type: r.type, subject: r.subject, time: r.time, data: JSON.parse(r.data) });

export class SqliteEventLog implements EventLog {
  private readonly appendTx;

  constructor(private readonly db: Db) {
    const next = db.prepare('SELECT COALESCE(MAX(seq), 0) + 1 AS seq FROM events');
    const insert = db.prepare('INSERT INTO events (seq, id, type, subject, time, data) VALUES (?, ?, ?, ?, ?, ?)');
    this.appendTx = db.transaction((e: NewEvent): Row => {
      const row: Row = {
        seq: (next.get() as { seq: number }).seq,
        id: randomUUID(),
        type: e.type,
        subject: e.subject,
        time: new Date().toISOString(),
        data: JSON.stringify(e.data ?? null),
      };
      insert.run(row.seq, row.id, row.type, row.subject, row.time, row.data);
      return row;
    });
  }

  async append(e: NewEvent): Promise<CloudEvent> {
    return fromRow(this.appendTx.immediate(e));
  }

  async after(after: number, limit?: number): Promise<CloudEvent[]> {
    const rows = this.db
      .prepare('SELECT seq, id, type, subject, time, data FROM events WHERE seq > ? ORDER BY seq LIMIT ?')
      .all(after, pageSize(limit)) as Row[];
    return rows.map(fromRow);
  }

  async head(): Promise<number> {
    return (this.db.prepare('SELECT COALESCE(MAX(seq), 0) AS seq FROM events').get() as { seq: number }).seq;
  }
}

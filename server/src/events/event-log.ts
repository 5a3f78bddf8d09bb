// The EventLog port: an append-only, numbered log of every event. Engines: store/sqlite/sqlite-event-log.ts,
// store/postgres/postgres-event-log.ts; both pass event-log-contract.ts.
import type { CloudEvent, NewEvent } from './cloud-event.ts';

export interface EventLog {
  /**
   * Stores the event with the next sequence number (1 for the first) and returns its envelope. Numbers
   * are strictly increasing and gap-free, and an event is visible to `after` only once every smaller
   * number is: a reader that resumes after N never skips an event committed later below N.
   */
  append(e: NewEvent): Promise<CloudEvent>;
  /** Events with sequence > `after`, in order, at most `limit` (default 100, at most 1000). */
  after(after: number, limit?: number): Promise<CloudEvent[]>;
  /** The highest sequence number stored (0 when empty). */
  head(): Promise<number>;
}

export const MAX_PAGE = 1000;
export const pageSize = (limit: number | undefined): number => Math.min(Math.max(1, Math.floor(limit ?? 100)), MAX_PAGE);

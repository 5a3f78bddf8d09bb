// Deployment status events waiting to be sent [WIRE-2.4], kept on disk so an agent restarted while offline still reports them.
import type { StatusEvent } from '@flotilla/firmware-bundler/wire';
import { readJson, writeJson, type AgentStorage } from '../storage/agent-storage.ts';

const KEY = 'state/status-outbox.json';
/** Most events kept; the oldest goes first. An update makes about ten, so this is dozens of updates offline. */
export const STATUS_OUTBOX_LIMIT = 500;

/**
 * A bounded FIFO of status events in one atomically written file. Events are few (one per state
 * change), so each change rewrites the whole list; writes run one at a time, in order, and each
 * writes the latest list, so a crash leaves either the list before or the list after a change.
 * Delivery is at least once: an event published just before a crash, not yet removed, is sent again.
 */
export class StatusOutbox {
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly storage: AgentStorage,
    private readonly events: StatusEvent[],
  ) {}

  /** Opens the outbox, with what a previous run left unsent. */
  static async open(storage: AgentStorage): Promise<StatusOutbox> {
    const saved = await readJson<unknown>(storage, KEY);
    const events = Array.isArray(saved) ? (saved as StatusEvent[]).slice(-STATUS_OUTBOX_LIMIT) : [];
    return new StatusOutbox(storage, events);
  }

  get size(): number {
    return this.events.length;
  }

  /** The oldest unsent event, or undefined. */
  peek(): StatusEvent | undefined {
    return this.events[0];
  }

  /** Adds an event (dropping the oldest when full) and stores the list. */
  push(event: StatusEvent): Promise<void> {
    this.events.push(event);
    if (this.events.length > STATUS_OUTBOX_LIMIT) this.events.shift();
    return this.save();
  }

  /** Removes the oldest event once it was published, and stores the list. */
  shift(): Promise<void> {
    this.events.shift();
    return this.save();
  }

  /** Resolves when every change so far is on disk. */
  settled(): Promise<void> {
    return this.writing;
  }

  private save(): Promise<void> {
    // Chained so an older snapshot never lands after a newer one; a failed write does not stop later ones.
    this.writing = this.writing.then(() => writeJson(this.storage, KEY, this.events)).catch(() => undefined);
    return this.writing;
  }
}

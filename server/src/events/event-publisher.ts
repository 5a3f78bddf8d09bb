// The publish port every domain emits through (`events.publish(type, subject, data)`), and the bus that
// implements it: append to the EventLog, then wake in-process readers (the SSE stream, the webhook
// dispatcher). Readers in other processes poll the log, so a wake-up is only a shortcut.
import type { Logger } from '../log/logger.ts';
import type { CloudEvent, EventType } from './cloud-event.ts';
import type { EventLog } from './event-log.ts';

/**
 * What a domain needs to emit an event. Resolves once the event is stored (null when storing failed:
 * the failure is logged, never thrown, so the change the event reports is never undone by it).
 */
export interface EventPublisher {
  publish(type: EventType, subject: string, data: unknown): Promise<CloudEvent | null>;
}

/** A publisher that drops everything: the default of domains built without events (unit tests). */
export const noEvents: EventPublisher = { publish: async () => null };

export class EventBus implements EventPublisher {
  private readonly listeners = new Set<(e: CloudEvent) => void>();
  /** Appends run one after another, so this process's events are numbered in the order they were published. */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    readonly log: EventLog,
    private readonly logger?: Logger,
  ) {}

  publish(type: EventType, subject: string, data: unknown): Promise<CloudEvent | null> {
    const run = this.tail.then(async () => {
      try {
        const e = await this.log.append({ type, subject, data });
        for (const fn of this.listeners) {
          try {
            fn(e);
          } catch (err) {
            this.logger?.warn('event listener failed', { err: String(err) });
          }
        }
        return e;
      } catch (err) {
        this.logger?.error('event not stored', { type, subject, err: String((err as Error)?.message ?? err) });
        return null;
      }
    });
    this.tail = run;
    return run;
  }

  /** Calls `fn` after each event this process stores; returns the unsubscribe function. */
  onEvent(fn: (e: CloudEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}

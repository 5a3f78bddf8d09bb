// Reports to the server: each state change as a status event [WIRE-2.4], the current state as retained `reported` [WIRE-2.3].
import type { ReportedState, StatusEvent } from '@flotilla/firmware-bundler/wire';
import type { AgentStorage } from '../storage/agent-storage.ts';
import type { ServerLink } from '../transport/server-link.ts';
import { StatusOutbox } from './status-outbox.ts';

/** Publishes status events in order and the retained reported state, re-sending after reconnects and restarts. */
export class Reporter {
  private flushing = false;
  private again = false;

  private constructor(
    private readonly link: ServerLink | null,
    private readonly outbox: StatusOutbox,
    private readonly reported: () => Promise<ReportedState>,
  ) {
    link?.onConnection((online) => {
      if (online) void this.flush();
    });
  }

  /** Opens the reporter with the status events an earlier run could not send; they go out on the next connect. */
  static async open(link: ServerLink | null, storage: AgentStorage, reported: () => Promise<ReportedState>): Promise<Reporter> {
    return new Reporter(link, await StatusOutbox.open(storage), reported);
  }

  status(event: StatusEvent): void {
    void this.outbox.push(event);
    void this.flush();
  }

  /** Resolves when the unsent status events are on disk. */
  settled(): Promise<void> {
    return this.outbox.settled();
  }

  /** Publishes the current reported state (and anything queued). */
  async flush(): Promise<void> {
    if (!this.link?.online) return;
    if (this.flushing) {
      this.again = true;
      return;
    }
    this.flushing = true;
    try {
      do {
        this.again = false;
        for (let e = this.outbox.peek(); e && this.link.online; e = this.outbox.peek()) {
          await this.link.publish('status', JSON.stringify(e));
          // Unless a full outbox dropped it meanwhile.
          if (this.outbox.peek() === e) void this.outbox.shift();
        }
        if (this.link.online) await this.link.publish('reported', JSON.stringify(await this.reported()), { retain: true });
      } while (this.again && this.link.online);
    } catch {
      /* offline again: the next connect flushes */
    } finally {
      this.flushing = false;
    }
  }
}

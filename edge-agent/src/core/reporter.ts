// Reports to the server: each state change as a status event [WIRE-2.4], the current state as retained `reported` [WIRE-2.3].
import type { ReportedState, StatusEvent } from '@flotilla/firmware-bundler/wire/index';
import type { ServerLink } from '../transport/server-link.ts';

/** Status events kept in memory while offline; the retained `reported` state always carries the latest anyway. */
const OUTBOX_LIMIT = 500;

/** Publishes status events in order and the retained reported state, re-sending after reconnects. */
export class Reporter {
  private readonly outbox: StatusEvent[] = [];
  private flushing = false;
  private again = false;

  constructor(
    private readonly link: ServerLink | null,
    private readonly reported: () => Promise<ReportedState>,
  ) {
    link?.onConnection((online) => {
      if (online) void this.flush();
    });
  }

  status(event: StatusEvent): void {
    this.outbox.push(event);
    if (this.outbox.length > OUTBOX_LIMIT) this.outbox.shift();
    void this.flush();
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
        while (this.outbox.length && this.link.online) {
          await this.link.publish('status', JSON.stringify(this.outbox[0]));
          this.outbox.shift();
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

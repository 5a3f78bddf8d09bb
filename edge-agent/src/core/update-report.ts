// What the agent tells the server about the update in flight [WIRE-2.3.1, 2.4.2, 2.4.3]: what it waits
// on, how far the download got (throttled), and whether a failure is permanent or will be retried.
import type { ReportedState, StatusEvent, UpdateProgress, Waiting } from '@flotilla/firmware-bundler/wire';
import type { Transition } from '../update/state-machine.ts';
import type { StoredWaiting, UpdateRecord } from '../update/update-record.ts';

/** Least time between two progress reports: a fast download must not flood the broker. */
const PROGRESS_EVERY_MS = 1000;

/** The wire form of what an update waits on. */
export function waitingOnWire(w: StoredWaiting): Waiting {
  return {
    kind: w.kind,
    reason: w.reason.slice(0, 2000),
    since: new Date(w.since).toISOString(),
    ...(w.until !== null ? { until: new Date(w.until).toISOString() } : {}),
  };
}

/** Keeps the latest download progress and decides when it is worth a report. */
export class UpdateReport {
  private progress: { bundleId: string; p: UpdateProgress } | null = null;
  private lastSent = 0;

  /** `flush` publishes the reported state now. */
  constructor(private readonly flush: () => void) {}

  /** A chunk arrived: remembered, and reported when the last report is old enough or the download is done. */
  onProgress(bundleId: string, p: UpdateProgress): void {
    this.progress = { bundleId, p };
    const t = Date.now();
    if (p.chunks === p.totalChunks || t - this.lastSent >= PROGRESS_EVERY_MS) {
      this.lastSent = t;
      this.flush();
    }
  }

  /** The optional status event fields of a transition. */
  statusFields(t: Transition): Pick<StatusEvent, 'waiting' | 'permanent' | 'retryAt'> {
    const r = t.record;
    if (t.event === 'wait' && r.waiting) return { waiting: waitingOnWire(r.waiting) };
    if (t.to === 'failed' && r.failureRetry) {
      return {
        permanent: r.failureRetry.permanent === true,
        ...(r.failureRetry.retryAt != null ? { retryAt: new Date(r.failureRetry.retryAt).toISOString() } : {}),
      };
    }
    return {};
  }

  /** The reported state's `update` field: the bundle in flight, what it waits on, its download progress. */
  reported(r: UpdateRecord): ReportedState['update'] {
    if (!r.target || r.state === 'idle') {
      this.progress = null;
      return null;
    }
    const progress = this.progress?.bundleId === r.target.id ? this.progress.p : null;
    return { bundleId: r.target.id, waiting: r.waiting ? waitingOnWire(r.waiting) : null, progress, attempt: r.lastFailed?.attempts ?? 0 };
  }
}

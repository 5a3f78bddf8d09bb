// In-process events for live views (SSE): each accepted window, each alert change.
import type { AlertChange } from './alert.ts';

/** A stored window, summarised for live views. */
export interface WindowEvent {
  deviceId: string;
  cohorts: string[];
  model: string;
  seq: number;
  start: string;
  end: string;
  requests: number;
  errors: number;
  latencyP95Ms: number;
}

type Listener<T> = (e: T) => void;

/** A tiny typed emitter: a listener that throws is logged by the caller's `onError`, never breaks ingestion. */
export class MonitoringEvents {
  private readonly windows = new Set<Listener<WindowEvent>>();
  private readonly alerts = new Set<Listener<AlertChange>>();

  constructor(private readonly onError: (e: unknown) => void = () => {}) {}

  /** Subscribes to accepted windows; returns the unsubscribe function. */
  onWindow(fn: Listener<WindowEvent>): () => void {
    this.windows.add(fn);
    return () => this.windows.delete(fn);
  }

  /** Subscribes to alert changes (raised, updated, escalated, resolved, acknowledged); returns the unsubscribe function. */
  onAlert(fn: Listener<AlertChange>): () => void {
    this.alerts.add(fn);
    return () => this.alerts.delete(fn);
  }

  /** True when someone listens for windows (building the events costs time at high rates). */
  get wantsWindows(): boolean {
    return this.windows.size > 0;
  }

  emitWindow(e: WindowEvent): void {
    for (const fn of this.windows) this.safe(fn, e);
  }

  emitAlert(e: AlertChange): void {
    for (const fn of this.alerts) this.safe(fn, e);
  }

  private safe<T>(fn: Listener<T>, e: T): void {
    try {
      fn(e);
    } catch (err) {
      this.onError(err);
    }
  }
}

// Takes in what devices say about themselves: reported state [WIRE-2.3], deployment status
// [WIRE-2.4], presence [WIRE-2.6] and, for every message, last-seen. Invalid payloads are dropped
// and counted [WIRE-2.1], never fatal.
import { decodeMessage, parseDeviceTopic, Presence, ReportedState, StatusEvent } from '@flotilla/firmware-bundler/wire';
import type { BrokerLink, InboundMessage } from '../broker/broker-link.ts';
import type { Logger } from '../log/logger.ts';
import type { Store } from '../store/store.ts';
import { DeviceEventQueue } from './device-event-queue.ts';

export interface IngestOptions {
  store: Store;
  link: BrokerLink;
  log: Logger;
  prefix: string;
  /** Last-seen times are written in one batch this often, ms. Default 5000. */
  flushMs?: number;
  /** Called for every valid deployment status event [WIRE-2.4] (the rollout engine counts installs and failures). */
  onStatus?: (deviceId: string, event: StatusEvent) => Promise<unknown> | void;
}

export class DeviceStateIngest {
  private readonly lastSeen = new Map<string, string>();
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => Promise<void>) | null = null;
  /** Writes in progress, so close() can wait for them. */
  private readonly pending = new Set<Promise<unknown>>();
  /** Presence messages ignored as stale [WIRE-2.6]. */
  stalePresence = 0;
  private closed = false;
  /** Timeline events go through a write-behind queue: one transaction per few ms, not one per message. */
  private readonly events: DeviceEventQueue;

  constructor(private readonly o: IngestOptions) {
    this.events = new DeviceEventQueue({
      store: o.store.devices,
      onError: (err) => o.log.error('device events write failed; kept for the next try', { err: String((err as Error)?.stack ?? err) }),
    });
  }

  async start(): Promise<void> {
    const { store, link, prefix } = this.o;
    await store.devices.resetPresence();
    this.unsubscribe = await link.subscribe(`${prefix}/devices/#`, (m) => this.onMessage(m));
    link.onConnection({
      connected: (id) => {
        if (!this.closed) this.track(this.presence(id, true, 'connected'));
      },
      disconnected: (id, still) => {
        if (!still && !this.closed) this.track(this.presence(id, false, 'disconnected'));
      },
    });
    this.timer = setInterval(() => this.track(this.flush()), this.o.flushMs ?? 5000);
    this.timer.unref();
  }

  /** Stops taking messages and writes what is pending. */
  async close(): Promise<void> {
    // Disconnections during the broker's own shutdown are not recorded: the next start marks every device offline.
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.unsubscribe?.();
    await Promise.allSettled([...this.pending]);
    await this.flush();
    await this.events.close();
  }

  private onMessage(m: InboundMessage): void {
    // The server's own publishes (desired, chunk responses) have no client.
    if (m.clientId === null) return;
    const t = parseDeviceTopic(this.o.prefix, m.topic);
    if (!t || t.deviceId !== m.clientId) return;
    const at = new Date().toISOString();
    this.lastSeen.set(t.deviceId, at);
    if (t.leaf === 'reported') this.track(this.reported(t.deviceId, m.payload, at));
    else if (t.leaf === 'presence') this.track(this.presenceMessage(t.deviceId, m.payload, at));
    else if (t.leaf === 'status') this.track(this.status(t.deviceId, m.payload, at));
  }

  private async reported(id: string, payload: Buffer, at: string): Promise<void> {
    const r = decodeMessage(ReportedState, payload);
    if (!r) return this.invalid(id, 'reported');
    const before = await this.o.store.devices.get(id);
    await this.o.store.devices.setReported(id, r as unknown as Record<string, unknown>, at);
    const prev = before?.reported as { state?: string; bundleId?: string | null } | null;
    // The timeline records changes, not every report.
    if (!prev || prev.state !== r.state || prev.bundleId !== r.bundleId) {
      this.events.add({
        deviceId: id,
        at,
        kind: 'reported',
        detail: { state: r.state, bundleId: r.bundleId, model: r.model, lastError: r.lastError },
      });
    }
  }

  private async presenceMessage(id: string, payload: Buffer, at: string): Promise<void> {
    const p = decodeMessage(Presence, payload);
    if (!p) return this.invalid(id, 'presence');
    // A will from an older connection can arrive after the device is back: the broker knows better.
    if (!p.online && this.o.link.isConnected(id)) {
      this.stalePresence++;
      return;
    }
    const applied = await this.o.store.devices.setPresence(id, { online: p.online, session: p.session, at });
    if (!applied) {
      this.stalePresence++;
      return;
    }
    this.events.add({ deviceId: id, at, kind: p.online ? 'online' : 'offline', detail: { session: p.session } });
  }

  private async status(id: string, payload: Buffer, at: string): Promise<void> {
    const s = decodeMessage(StatusEvent, payload);
    if (!s) return this.invalid(id, 'status');
    this.events.add({ deviceId: id, at, kind: 'status', detail: s });
    await this.o.onStatus?.(id, s);
  }

  private async presence(id: string, online: boolean, kind: string): Promise<void> {
    const at = new Date().toISOString();
    await this.o.store.devices.setPresence(id, { online, at });
    this.events.add({ deviceId: id, at, kind, detail: null });
  }

  private invalid(id: string, leaf: string): void {
    this.o.link.counters.add(id, 'invalidMessages');
    this.o.log.debug('invalid device message dropped', { device: id, leaf });
  }

  private async flush(): Promise<void> {
    if (this.lastSeen.size === 0) return;
    const batch = new Map(this.lastSeen);
    this.lastSeen.clear();
    await this.o.store.devices.touch(batch);
  }

  private track(p: Promise<unknown>): void {
    const t = p.catch((err) => this.o.log.error('device state write failed', { err: String((err as Error)?.stack ?? err) }));
    if (this.closed) return;
    this.pending.add(t);
    void t.finally(() => this.pending.delete(t));
  }
}

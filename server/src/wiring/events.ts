// Wires events: the bus every domain publishes through, publishers for the registry and bundles (the
// store methods that change them, wrapped, so every caller emits), alerts (from monitoring's changes),
// the webhook service and the dispatcher (under the 'webhooks' lease when processes share a database).
//
// Events are appended right after the change commits, not in its transaction: the changes live in other
// stores (and, on SQLite, other files) than the log, so one transaction would mean threading the log into
// every engine of every domain. The cost: a crash between the change and the append loses that event
// (docs/events.md says so); nothing ever reports a change that did not happen.
import type { AlertChange, AlertChangeType } from '../monitoring/alert.ts';
import type { EventType } from '../events/cloud-event.ts';
import { EventBus, type EventPublisher } from '../events/event-publisher.ts';
import { DEFAULT_TIMINGS, WebhookDispatcher, type DispatchTimings } from '../events/webhook-dispatcher.ts';
import { WebhookService } from '../events/webhook-service.ts';
import type { Logger } from '../log/logger.ts';
import type { LeaseStore } from '../store/lease.ts';
import { leaseGate } from '../store/lease.ts';
import type { BundleStore, ModelStore, Store } from '../store/store.ts';
import { openEventStores } from './event-stores.ts';

export interface EventsWiring {
  bus: EventBus;
  webhooks: WebhookService;
  dispatcher: WebhookDispatcher;
  /** Monitoring's alert changes → `alert.*` events. */
  onAlert(change: AlertChange): void;
  close(): Promise<void>;
}

/** Dispatcher timings from FLOTILLA_WEBHOOK_* (tests shorten the backoff so "down for a minute" takes seconds). */
export function timingsFromEnv(env: NodeJS.ProcessEnv = process.env): DispatchTimings {
  const n = (name: string, fallback: number) => (Number(env[name]) > 0 ? Number(env[name]) : fallback);
  return {
    timeoutMs: n('FLOTILLA_WEBHOOK_TIMEOUT_MS', DEFAULT_TIMINGS.timeoutMs),
    backoffMs: n('FLOTILLA_WEBHOOK_BACKOFF_MS', DEFAULT_TIMINGS.backoffMs),
    backoffMaxMs: n('FLOTILLA_WEBHOOK_BACKOFF_MAX_MS', DEFAULT_TIMINGS.backoffMaxMs),
    maxFailures: n('FLOTILLA_WEBHOOK_MAX_FAILURES', DEFAULT_TIMINGS.maxFailures),
    pollMs: n('FLOTILLA_WEBHOOK_POLL_MS', DEFAULT_TIMINGS.pollMs),
  };
}

const ALERT_TYPES: Partial<Record<AlertChangeType, EventType>> = {
  raised: 'alert.opened',
  escalated: 'alert.escalated',
  acknowledged: 'alert.acknowledged',
  resolved: 'alert.resolved',
};

/** The store's registry and bundle writers, emitting after each change (a Proxy, so methods added later pass through). */
export function publishingStore(store: Store, events: EventPublisher): void {
  const wrap = <T extends object>(target: T, hooks: Partial<Record<keyof T, (out: never, args: never[]) => Promise<unknown>>>): T =>
    new Proxy(target, {
      get(t, p) {
        const v = Reflect.get(t, p, t) as unknown;
        if (typeof v !== 'function') return v;
        const after = hooks[p as keyof T];
        if (!after) return v.bind(t);
        return async (...args: unknown[]) => {
          const out = await (v as (...a: unknown[]) => Promise<unknown>).apply(t, args);
          await after(out as never, args as never[]);
          return out;
        };
      },
    });
  store.models = wrap<ModelStore>(store.models, {
    addVersion: (v: Awaited<ReturnType<ModelStore['addVersion']>>) =>
      events.publish('model.version_registered', `${v.model}@${v.version}`, {
        model: v.model,
        version: v.version,
        format: v.format,
        runId: v.runId,
        artifacts: v.artifacts,
        tags: v.tags,
        description: v.description,
        createdAt: v.createdAt,
      }),
    moveAlias: (m: Awaited<ReturnType<ModelStore['moveAlias']>>) => events.publish('model.alias_moved', `${m.model}@${m.alias}`, { ...m }),
  });
  store.bundles = wrap<BundleStore>(store.bundles, {
    create: (b: Awaited<ReturnType<BundleStore['create']>>) =>
      events.publish('bundle.created', b.id, {
        id: b.id,
        model: b.model,
        modelVersion: b.modelVersion,
        version: b.version,
        sequence: b.sequence,
        bytes: b.bytes,
        keyId: b.keyId,
        createdAt: b.createdAt,
        createdBy: b.createdBy,
      }),
  });
}

export async function openEvents(o: {
  storeUri: string | undefined;
  dataDir: string;
  store: Store;
  leases: LeaseStore;
  holder: string;
  log: Logger;
  timings?: Partial<DispatchTimings>;
}): Promise<EventsWiring> {
  const stores = await openEventStores(o.storeUri, o.dataDir);
  const bus = new EventBus(stores.log, o.log.child({ svc: 'events' }));
  publishingStore(o.store, bus);
  const timings = { ...timingsFromEnv(), ...o.timings };
  const lease = leaseGate(o.leases, 'webhooks', o.holder, Math.max(60_000, 3 * timings.timeoutMs), (e) =>
    o.log.warn('lease check failed', { err: String(e) }),
  );
  const dispatcher = new WebhookDispatcher({
    hooks: stores.hooks,
    log: stores.log,
    logger: o.log.child({ svc: 'webhooks' }),
    timings,
    lease: lease.check,
  });
  const webhooks = new WebhookService(stores.hooks, stores.log, () => dispatcher.wake());
  const stopWake = bus.onEvent(() => dispatcher.wake());
  dispatcher.start();
  return {
    bus,
    webhooks,
    dispatcher,
    onAlert(change) {
      const type = ALERT_TYPES[change.type];
      if (type) void bus.publish(type, change.alert.id, { ...change.alert });
    },
    async close() {
      stopWake();
      await dispatcher.stop();
      await lease.release();
      await stores.close();
    },
  };
}

// Adapters between the rollout engine's ports and the fleet: device registry, delivery, monitoring, bundles.
import type { BundleResolver, DesiredStatePort, DeviceDirectory, HealthPort, TargetDevice } from '../rollouts/index.ts';
import type { DeviceUpdateReport } from '../rollouts/ports.ts';
import { matchesTarget, type Target } from '../rollouts/target.ts';
import { devicePolicy } from '../rollouts/update-control.ts';
import { toBundleRef, type DeliveryService } from '../delivery/delivery-service.ts';
import type { MonitoringService } from '../monitoring/monitoring-service.ts';
import type { Device } from '../store/entities.ts';
import type { Store } from '../store/store.ts';

const toTarget = (d: Device): TargetDevice => ({
  id: d.id,
  tags: d.tags,
  groups: d.groups,
  attributes: d.attributes,
  online: d.online,
  currentBundleId:
    ((d.reported as { bundleId?: string | null } | null)?.bundleId ?? null) ||
    ((d.desired as { bundle?: { id?: string } | null } | null)?.bundle?.id ?? null),
  update: (d.reported as { update?: DeviceUpdateReport | null } | null)?.update ?? null,
});

/** The registry filter that selects exactly what `matchesTarget` would, or null when none does. */
function exactFilter(t: Target): { tag?: string; group?: string } | null {
  if (t.deviceIds?.length || Object.keys(t.attributes ?? {}).length || (t.tags?.length ?? 0) > 1 || (t.groups?.length ?? 0) > 1)
    return null;
  return { ...(t.tags?.length ? { tag: t.tags[0] } : {}), ...(t.groups?.length ? { group: t.groups[0] } : {}) };
}

/** Pages through the registry (narrowed by the target's first tag or group when it has one) and filters with the engine's own rule. */
export function deviceDirectory(store: Store): DeviceDirectory {
  return {
    async count(target: Target) {
      const filter = exactFilter(target);
      if (!filter) return null;
      const [matching, online] = await Promise.all([store.devices.count(filter), store.devices.count({ ...filter, online: true })]);
      return { matching, online };
    },
    async list(target: Target) {
      const out: TargetDevice[] = [];
      const filter = target.tags?.length ? { tag: target.tags[0] } : target.groups?.length === 1 ? { group: target.groups[0] } : {};
      let after: string | undefined;
      for (;;) {
        const page = await store.devices.list({ ...filter, after, limit: 1000 });
        for (const d of page.devices) if (!d.revokedAt && matchesTarget(d, target)) out.push(toTarget(d));
        if (!page.next) return out;
        after = page.next;
      }
    },
    async get(ids) {
      const found = await Promise.all(ids.map((id) => store.devices.get(id)));
      return found.filter((d): d is Device => d !== null && !d.revokedAt).map(toTarget);
    },
  };
}

export function desiredStatePort(delivery: DeliveryService): DesiredStatePort {
  return {
    async setDesired(deviceIds, what, opts = {}) {
      // A rollback carries no update policy: it is the operator's emergency exit and activates at once.
      if ('rollbackTo' in what) await delivery.setDesired([...deviceIds], what.rollbackTo, { rollback: true, actor: 'rollout-engine' });
      else
        await delivery.setDesired([...deviceIds], what.id, {
          actor: 'rollout-engine',
          retry: opts.retry,
          ...(opts.update ? { update: (attrs) => devicePolicy(opts.update, attrs) } : {}),
        });
    },
    async setShadow(deviceIds, bundle) {
      await delivery.setShadow([...deviceIds], bundle?.id ?? null, { actor: 'rollout-engine' });
    },
  };
}

export function healthPort(monitoring: MonitoringService): HealthPort {
  return {
    stageStats: (q) =>
      monitoring.deviceSetHealth({
        deviceIds: q.deviceIds,
        model: `${q.bundle.model}@${q.bundle.version}`,
        since: Date.parse(q.since),
        shadow: q.shadow,
      }),
  };
}

export function bundleResolver(store: Store): BundleResolver {
  return {
    async resolve(ref) {
      if ('bundle' in ref) {
        const b = await store.bundles.get(ref.bundle);
        return b ? toBundleRef(b) : null;
      }
      const mv = await store.models.resolve(ref.model);
      if (!mv) return null;
      const newest = (await store.bundles.list({ model: mv.model, limit: 500 })).find((b) => b.modelVersion === mv.version);
      return newest ? toBundleRef(newest) : null;
    },
  };
}

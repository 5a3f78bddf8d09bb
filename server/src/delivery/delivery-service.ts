// Desired state [WIRE-2.2]: the database is the source of truth; each change bumps the device's
// revision and is published retained with QoS 1, and every desired state is re-published on start.
// Every desired state carries the current signed trust update [WIRE-2.2.3] once keys were rotated.
// Also answers which blobs a device may fetch [WIRE-2.7].
import type { TrustUpdate } from '@flotilla/firmware-bundler';
import {
  BundleRef,
  deviceTopic,
  encodeMessage,
  type DesiredState,
  type TelemetryPolicy,
  type UpdatePolicy,
} from '@flotilla/firmware-bundler/wire';
import type { BrokerLink } from '../broker/broker-link.ts';
import type { Logger } from '../log/logger.ts';
import type { BundleRecord } from '../store/entities.ts';
import type { Store } from '../store/store.ts';
import { DeliveryError } from './delivery-error.ts';

/**
 * Telemetry policy a desired state carries until an operator sets another. Window 60 s, or env
 * FLOTILLA_TELEMETRY_WINDOW_SEC: simulated fleets and tests need verdicts in seconds, not minutes.
 * No field samples (rate 0, budget 0 bytes), or env FLOTILLA_TELEMETRY_SAMPLE_RATE (0-1) and
 * FLOTILLA_TELEMETRY_SAMPLE_BYTES: the demo retrains on field samples without an operator step.
 */
export const DEFAULT_TELEMETRY: TelemetryPolicy = {
  windowSec: telemetryWindowSec(process.env.FLOTILLA_TELEMETRY_WINDOW_SEC),
  sampleRate: bounded(process.env.FLOTILLA_TELEMETRY_SAMPLE_RATE, 0, 1),
  sampleBudgetBytes: Math.floor(bounded(process.env.FLOTILLA_TELEMETRY_SAMPLE_BYTES, 0, Number.MAX_SAFE_INTEGER)),
};

/** A number from the environment within [min, max], else 0. */
function bounded(env: string | undefined, min: number, max: number): number {
  const n = Number(env);
  return env !== undefined && Number.isFinite(n) && n >= min && n <= max ? n : 0;
}

function telemetryWindowSec(env: string | undefined): number {
  const n = Number(env);
  return Number.isInteger(n) && n >= 1 && n <= 3600 ? n : 60;
}

export interface SetDesiredResult {
  /** Devices whose desired state changed (and was published). */
  updated: string[];
  /** Ids that are unknown or revoked (nothing was done for them). */
  skipped: string[];
  bundle: BundleRef | null;
}

export class DeliveryService {
  /** bundle id → digests a device running it may fetch; bundles never change, so this never goes stale. */
  private readonly fetchable = new Map<string, Set<string>>();

  /**
   * `trust`: the current signed trust update (key-ring.ts), or null while the first key is the only one
   * ever trusted (version 0: nothing to send).
   */
  constructor(private readonly deps: { store: Store; link: BrokerLink; log: Logger; prefix: string; trust?: () => TrustUpdate | null }) {}

  /**
   * Gives every device that has a desired state the current trust update, as a new revision (same
   * bundle, shadow, policy and retry nonce), page by page like republishAll. Devices already holding
   * this version are left alone, so a repeat after an interruption does only what is left. Agents that
   * predate trust updates ignore the field. Returns how many devices got a new revision.
   */
  async publishTrust(opts: { actor?: string } = {}): Promise<number> {
    const trust = this.deps.trust?.() ?? null;
    if (!trust) return 0;
    let after: string | null = null;
    let n = 0;
    for (;;) {
      const page = await this.deps.store.devices.listDesired(after, 500);
      if (page.length === 0) return n;
      after = page[page.length - 1]!.id;
      // The store writes one serving-bundle column per call: group by the bundle each device keeps.
      const groups = new Map<string | null, string[]>();
      for (const d of page) {
        const prev = d.desired as Partial<DesiredState>;
        if ((prev.trust?.version ?? 0) >= trust.version) continue;
        const bundleId = prev.bundle?.id ?? null;
        groups.set(bundleId, [...(groups.get(bundleId) ?? []), d.id]);
      }
      n += await this.writeTrust(groups, trust, opts.actor ?? null);
    }
  }

  /**
   * Writes `trust` into the devices' desired states, grouped by the serving bundle the page said they
   * had. A device whose bundle changed since (an operator's setDesired in between) is written again
   * with the bundle it has now, so its serving-bundle column never goes stale.
   */
  private async writeTrust(groups: Map<string | null, string[]>, trust: TrustUpdate, actor: string | null): Promise<number> {
    const done = new Set<string>();
    for (let pass = 0; groups.size > 0 && pass < 5; pass++) {
      const moved = new Map<string | null, string[]>();
      const issuedAt = new Date().toISOString();
      for (const [bundleId, ids] of groups) {
        const stored = await this.deps.store.devices.setDesired(
          ids,
          (rev, device) => {
            // The bundle the stored state names now (what the serving-bundle column must say).
            const now = (device.desired as Partial<DesiredState> | null)?.bundle?.id ?? null;
            if (now !== bundleId) moved.set(now, [...(moved.get(now) ?? []), device.id]);
            return { ...(device.desired ?? {}), v: 1, rev, trust, issuedAt };
          },
          bundleId,
        );
        await this.deps.store.devices.addEvents(
          [...stored].map(([id, desired]) => ({
            deviceId: id,
            at: issuedAt,
            kind: 'desired',
            detail: { rev: desired.rev, trust: trust.version, actor },
          })),
        );
        await Promise.all([...stored].map(([id, desired]) => this.publish(id, desired)));
        for (const id of stored.keys()) done.add(id);
      }
      groups = moved;
    }
    return done.size;
  }

  /** Re-publishes every stored desired state (retained), so the broker holds them again after a restart. */
  async republishAll(): Promise<number> {
    let after: string | null = null;
    let n = 0;
    for (;;) {
      const page = await this.deps.store.devices.listDesired(after, 500);
      if (page.length === 0) return n;
      await Promise.all(page.map((d) => this.publish(d.id, d.desired)));
      n += page.length;
      after = page[page.length - 1]!.id;
    }
  }

  /**
   * Points devices at a bundle (id or unique prefix), or at none with null. The rollout engine
   * calls this too. `rollback` marks an operator-ordered return to an older bundle [WIRE-2.2]. `update`
   * gives each device its update policy [WIRE-2.2.2] from its attributes (none: the device activates at
   * once); `retry` bumps the device's retry nonce so its agent tries a bundle that failed there again.
   */
  async setDesired(
    deviceIds: string[],
    bundleRef: string | null,
    opts: {
      rollback?: boolean;
      actor?: string;
      update?: (attributes: Record<string, string>) => UpdatePolicy | undefined;
      retry?: boolean;
    } = {},
  ): Promise<SetDesiredResult> {
    const record = bundleRef === null ? null : await this.deps.store.bundles.get(bundleRef);
    if (bundleRef !== null && !record) throw new DeliveryError('BUNDLE_NOT_FOUND', `bundle '${bundleRef}' was not found`);
    const bundle = record ? toBundleRef(record, opts.rollback) : null;
    const issuedAt = new Date().toISOString();
    const stored = await this.deps.store.devices.setDesired(
      [...new Set(deviceIds)],
      (rev, device) => {
        const prev = device.desired as Partial<DesiredState> | null;
        const update = opts.update?.(device.attributes ?? {});
        // The nonce stays while the bundle does: dropping it would look like a new request to the agent.
        const retry = opts.retry ? (prev?.retry ?? 0) + 1 : prev?.bundle?.id === bundle?.id ? prev?.retry : undefined;
        const desired: DesiredState = {
          ...keepShadow(prev),
          v: 1,
          rev,
          bundle,
          telemetry: prev?.telemetry ?? DEFAULT_TELEMETRY,
          ...(update ? { update } : {}),
          ...(retry ? { retry } : {}),
          ...this.trustField(prev),
          issuedAt,
        };
        return desired as unknown as Record<string, unknown>;
      },
      record?.id ?? null,
    );
    // One transaction for the devices' timeline entries, not one per device.
    await this.deps.store.devices.addEvents(
      [...stored].map(([id, desired]) => ({
        deviceId: id,
        at: issuedAt,
        kind: 'desired',
        detail: { rev: desired.rev, bundle: record?.id ?? null, actor: opts.actor ?? null },
      })),
    );
    await Promise.all([...stored].map(([id, desired]) => this.publish(id, desired)));
    return { updated: [...stored.keys()], skipped: deviceIds.filter((id) => !stored.has(id)), bundle };
  }

  /**
   * Sets the shadow bundle (id or unique prefix) that devices run beside the serving one without
   * answering the app [WIRE-2.2.1], or clears it with null; `rate` is the share of predict calls the
   * shadow sees (default all). The serving bundle is left as it is. Devices whose shadow is already
   * this one are left alone (no new revision), so the rollout engine may repeat the call.
   */
  async setShadow(deviceIds: string[], bundleRef: string | null, opts: { rate?: number; actor?: string } = {}): Promise<SetDesiredResult> {
    const record = bundleRef === null ? null : await this.deps.store.bundles.get(bundleRef);
    if (bundleRef !== null && !record) throw new DeliveryError('BUNDLE_NOT_FOUND', `bundle '${bundleRef}' was not found`);
    if (opts.rate !== undefined && !(opts.rate >= 0 && opts.rate <= 1))
      throw new DeliveryError('SHADOW_RATE_INVALID', `shadow rate ${opts.rate} is not within 0..1`);
    const shadow = record ? toBundleRef(record) : null;
    const issuedAt = new Date().toISOString();
    // The store writes one serving-bundle column per call: group the devices by the bundle they keep.
    const groups = new Map<string | null, string[]>();
    const known = new Set<string>();
    for (const id of new Set(deviceIds)) {
      const d = await this.deps.store.devices.get(id);
      if (!d || d.revokedAt) continue;
      known.add(id);
      const prev = d.desired as Partial<DesiredState> | null;
      if ((prev?.shadow?.id ?? null) === (shadow?.id ?? null) && prev?.shadowRate === opts.rate) continue;
      groups.set(d.desiredBundleId, [...(groups.get(d.desiredBundleId) ?? []), id]);
    }
    const updated: string[] = [];
    for (const [bundleId, ids] of groups) {
      const stored = await this.deps.store.devices.setDesired(
        ids,
        (rev, device) => {
          const prev = device.desired as Partial<DesiredState> | null;
          const desired: DesiredState = {
            v: 1,
            rev,
            bundle: prev?.bundle ?? null,
            telemetry: prev?.telemetry ?? DEFAULT_TELEMETRY,
            shadow,
            ...(prev?.update ? { update: prev.update } : {}),
            ...(prev?.retry ? { retry: prev.retry } : {}),
            ...(shadow && opts.rate !== undefined ? { shadowRate: opts.rate } : {}),
            ...this.trustField(prev),
            issuedAt,
          };
          return desired as unknown as Record<string, unknown>;
        },
        bundleId,
      );
      await this.deps.store.devices.addEvents(
        [...stored].map(([id, desired]) => ({
          deviceId: id,
          at: issuedAt,
          kind: 'shadow',
          detail: { rev: desired.rev, shadow: record?.id ?? null, actor: opts.actor ?? null },
        })),
      );
      updated.push(...stored.keys());
      await Promise.all([...stored].map(([id, desired]) => this.publish(id, desired)));
    }
    return { updated, skipped: deviceIds.filter((id) => !known.has(id)), bundle: shadow };
  }

  /** Stops the devices' shadow runs [WIRE-2.2.1]; same as `setShadow(ids, null)`. */
  clearShadow(deviceIds: string[], opts: { actor?: string } = {}): Promise<SetDesiredResult> {
    return this.setShadow(deviceIds, null, opts);
  }

  /** Digests the device may fetch: the envelopes, chunks and files of its desired and shadow bundles. */
  async fetchableBy(deviceId: string): Promise<Set<string>> {
    const d = await this.deps.store.devices.get(deviceId);
    const desired = d?.desired as Partial<DesiredState> | null | undefined;
    if (!d || d.revokedAt || !desired) return new Set();
    const out = new Set<string>();
    for (const ref of [desired.bundle, desired.shadow]) {
      if (!ref) continue;
      for (const digest of await this.digestsOf(ref.id)) out.add(digest);
    }
    return out;
  }

  private async digestsOf(bundleId: string): Promise<Set<string>> {
    let s = this.fetchable.get(bundleId);
    if (!s) {
      const b = await this.deps.store.bundles.get(bundleId);
      s = new Set(b ? [b.id, b.envelopeDigest, ...b.chunkDigests] : []);
      if (this.fetchable.size > 1000) this.fetchable.clear();
      this.fetchable.set(bundleId, s);
    }
    return s;
  }

  /**
   * `{ trust }`: the newer of the current trust update and the one the device's previous state carried
   * (a server process sharing the key folder may not have reloaded a rotation yet), or nothing at version 0.
   */
  private trustField(prev: Partial<DesiredState> | null): { trust?: TrustUpdate } {
    const trust = newerTrust(this.deps.trust?.() ?? null, prev?.trust ?? null);
    return trust ? { trust } : {};
  }

  /**
   * Publishes retained. A stored state older than the current trust update (a publishTrust that a crash
   * cut short) leaves with the current one: the agent checks it on its own, whatever the revision.
   */
  private publish(deviceId: string, desired: Record<string, unknown>): Promise<void> {
    const trust = this.deps.trust?.() ?? null;
    const stale = trust && ((desired as Partial<DesiredState>).trust?.version ?? 0) < trust.version;
    const payload = stale ? { ...desired, trust } : desired;
    return this.deps.link.publish({
      topic: deviceTopic(this.deps.prefix, deviceId, 'desired'),
      payload: encodeMessage(payload),
      qos: 1,
      retain: true,
    });
  }
}

function newerTrust(a: TrustUpdate | null, b: TrustUpdate | null): TrustUpdate | null {
  if (!a || !b) return a ?? b;
  return b.version > a.version ? b : a;
}

/** The shadow fields of a previous desired state, carried over when only the serving bundle changes. */
function keepShadow(prev: Partial<DesiredState> | null): Pick<DesiredState, 'shadow' | 'shadowRate'> {
  return { shadow: prev?.shadow ?? null, ...(prev?.shadow && prev.shadowRate !== undefined ? { shadowRate: prev.shadowRate } : {}) };
}

/** The reference a desired state carries [WIRE-2.2]; `manifestDigest` names the signed envelope. */
export function toBundleRef(b: BundleRecord, rollback?: boolean): BundleRef {
  return BundleRef.parse({
    id: b.id,
    model: b.model,
    version: b.version,
    sequence: b.sequence,
    manifestDigest: b.envelopeDigest,
    bytes: b.bytes,
    ...(rollback ? { rollback: true } : {}),
  });
}

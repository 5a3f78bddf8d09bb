// The device registry: provisioning (one, many, CSV), credentials, labels, revocation, and the
// authority the broker asks on every connect.
import { inSlices } from '../pace/in-slices.ts';
import { deviceTopic, encodeMessage, type CredentialRotation } from '@flotilla/firmware-bundler/wire';
import type { BrokerLink, DeviceAuthority, DeviceIdentity } from '../broker/broker-link.ts';
import { MAX_BATCH } from '../broker/dynsec-client.ts';
import { hashMatches } from '../broker/secret-hash.ts';
import type { CounterSet } from '../broker/device-counters.ts';
import type { Logger } from '../log/logger.ts';
import type { Device, DeviceEvent, DeviceFilter, NewDevice } from '../store/entities.ts';
import { StoreError } from '../store/store-error.ts';
import type { DevicePage, Store } from '../store/store.ts';
import type { CredentialKey } from './credential-key.ts';
import { hashDeviceToken, isDeviceId, LABEL, newDeviceId, newDeviceToken } from './device-credentials.ts';
import { parseDeviceCsv, MAX_IMPORT_ROWS } from './device-csv.ts';
import { DeviceError } from './device-error.ts';

export interface ProvisionInput {
  /** Default: a generated `dev-xxxxxxxxxxxx`. */
  id?: string;
  name?: string;
  tags?: string[];
  groups?: string[];
  attributes?: Record<string, string>;
}

/** A new device with its token; the token exists only in this value (the store keeps its hash). */
export interface Provisioned {
  id: string;
  token: string;
  device: Device;
}

/** A device's credential as `devices show` presents it (never the token or its hash). */
export interface CredentialView {
  /** Grows with every rotation, enrollment and recovery; 0 for the token printed at provisioning. */
  generation: number;
  /** When the current token was issued (ISO). */
  issuedAt: string;
  /** Its age in seconds. */
  ageSec: number;
  /** When a scheduled rotation (`flotilla server --rotate-every`) makes it due, or null without a schedule (or when revoked). */
  nextRotationAt: string | null;
  /** Until when the previous token is still accepted (an overlap window in progress), or null. */
  previousValidUntil: string | null;
}

/** A device as `devices show` presents it: the entity plus live broker state and its timeline. */
export interface DeviceView extends Device {
  connected: boolean;
  counters: CounterSet;
  events: DeviceEvent[];
  credential: CredentialView | null;
}

/** What a rotation did: how many devices got a new token, and until when their old one is accepted. */
export interface RotationResult {
  rotated: number;
  oldValidUntil: string;
  /** Of the rotated devices, how many were connected and were sent their new token at once. */
  notified: number;
}

/** How far a bulk import has got: devices created (committed) of the total. */
export interface ImportProgress {
  done: number;
  total: number;
}

/** Default overlap window: a device has this long to reconnect with its new token. */
export const DEFAULT_OVERLAP_MS = 24 * 3600_000;
/** Devices rotated per store transaction (and per yield to other requests). */
const ROTATE_CHUNK = 1000;
/** How often a rotated device that has not reconnected with its new token is sent it again. */
const RESEND_MS = 10_000;

export class DeviceService implements DeviceAuthority {
  private link: BrokerLink | null = null;
  /** Devices that connected with their previous token: they are sent the current one once ready. */
  private readonly behind = new Set<string>();
  /** Rotated devices not yet seen with their new token, with the end of their overlap window. */
  private readonly unconfirmed = new Map<string, string>();
  private resendTimer: NodeJS.Timeout | null = null;

  /** The scheduled rotation's due time of a credential, when the server runs one. */
  private nextRotation: ((issuedAt: string) => string) | null = null;

  constructor(private readonly deps: { store: Store; log: Logger; prefix: string; credentialKey?: CredentialKey; now?: () => number }) {}

  private now(): number {
    return this.deps.now?.() ?? Date.now();
  }

  /** Shown by `devices show` once a schedule runs (rotation-schedule.ts). */
  setRotationSchedule(nextRotationAt: ((issuedAt: string) => string) | null): void {
    this.nextRotation = nextRotationAt;
  }

  /** The broker is created after this service (it needs it as its authority). */
  attachBroker(link: BrokerLink): void {
    this.link = link;
    link.onConnection({
      connected: (id) => {
        if (this.behind.delete(id)) void this.resend(id);
      },
    });
  }

  /**
   * The current token, or the previous one inside its overlap window [WIRE-2.11]. The first connect with
   * the current token ends the overlap (the old one is refused from then on); a connect with the previous
   * one is answered with the current token again, for a device that missed its rotation message.
   */
  async authenticate(deviceId: string, secret: string): Promise<DeviceIdentity | null> {
    const cred = await this.deps.store.devices.credential(deviceId);
    if (!cred || cred.revoked) return null;
    if (hashMatches(cred.tokenHash, secret)) {
      if (cred.previousHash) await this.deps.store.devices.endOverlap(deviceId);
      return { deviceId, groups: cred.groups };
    }
    if (cred.previousHash && cred.previousUntil && Date.parse(cred.previousUntil) > this.now() && hashMatches(cred.previousHash, secret)) {
      if (cred.generation > 0) this.behind.add(deviceId);
      return { deviceId, groups: cred.groups };
    }
    return null;
  }

  /** mTLS: a device whose certificate the broker verified is let in while it is live (never when revoked). */
  async authenticateCertificate(deviceId: string): Promise<DeviceIdentity | null> {
    const cred = await this.deps.store.devices.credential(deviceId);
    return cred && !cred.revoked ? { deviceId, groups: cred.groups } : null;
  }

  /**
   * Gives each live device matching `target` a new token [WIRE-2.11]: the old one stays valid for
   * `overlapMs` (or until the device first connects with the new one). Connected devices are sent their
   * new token at once; the others get it when they next connect with the old one inside the overlap. An
   * external broker gets the new tokens (it keeps one per device, so there the old one ends at once).
   */
  async rotate(
    target: { ids?: string[]; filter?: DeviceFilter },
    actor: string,
    overlapMs = DEFAULT_OVERLAP_MS,
    onProgress?: (done: number) => void,
  ): Promise<RotationResult> {
    const key = this.requireKey();
    const at = this.now();
    const oldValidUntil = new Date(at + overlapMs).toISOString();
    let rotated = 0;
    let notified = 0;
    const rotateChunk = async (ids: string[]) => {
      const changed = await this.deps.store.devices.rotateCredentials(
        ids,
        oldValidUntil,
        (id, g) => key.hash(id, g),
        new Date(at).toISOString(),
      );
      // An external broker takes the new passwords a few at a time, each batch right after its devices' messages:
      // a device reconnects as soon as its message arrives and is refused until its password is written (it
      // retries for a while before recovering, credential-recovery.ts), so that wait must stay short.
      for (let i = 0; i < changed.length; i += MAX_BATCH) {
        const part = changed.slice(i, i + MAX_BATCH);
        for (const c of part) {
          this.behind.delete(c.id);
          this.unconfirmed.set(c.id, oldValidUntil);
          if (this.link?.isConnected(c.id)) {
            notified++;
            await this.sendToken(c.id, c.generation, oldValidUntil);
          }
        }
        // After the messages: an external broker may drop a client whose password changes, and a device
        // must already hold its new token when it reconnects.
        if (this.link?.credentials && part.length)
          await this.link.credentials.rotated(
            part.map((c) => ({ deviceId: c.id, token: key.token(c.id, c.generation), generation: c.generation })),
          );
      }
      rotated += changed.length;
      onProgress?.(rotated);
      await yieldToEventLoop();
    };
    if (target.ids) {
      for (let i = 0; i < target.ids.length; i += ROTATE_CHUNK) await rotateChunk(target.ids.slice(i, i + ROTATE_CHUNK));
    } else {
      let after: string | undefined;
      do {
        const page = await this.deps.store.devices.list({ ...target.filter, revoked: false, after, limit: ROTATE_CHUNK });
        if (page.devices.length) await rotateChunk(page.devices.map((d) => d.id));
        after = page.next ?? undefined;
      } while (after);
    }
    this.scheduleResend();
    await this.deps.store.audit.record({
      actor,
      action: 'device.rotate',
      subject: target.ids?.length === 1 ? target.ids[0]! : `${rotated} devices`,
      detail: { rotated, oldValidUntil, filter: target.filter ?? null },
    });
    return { rotated, oldValidUntil, notified };
  }

  /**
   * A rotation message can be lost (the broker sheds messages to a device whose socket is backed up, or
   * the device drops before it acknowledges): every {@link RESEND_MS} the current token is sent again to
   * each connected device that has not yet connected with it, until it does or its overlap ends.
   */
  private scheduleResend(): void {
    if (this.resendTimer || this.unconfirmed.size === 0) return;
    this.resendTimer = setTimeout(() => {
      this.resendTimer = null;
      void this.resendUnconfirmed().finally(() => this.scheduleResend());
    }, RESEND_MS);
    this.resendTimer.unref();
  }

  private async resendUnconfirmed(): Promise<void> {
    const now = Date.now();
    let n = 0;
    for (const [id, until] of [...this.unconfirmed]) {
      if (Date.parse(until) <= now) {
        this.unconfirmed.delete(id);
        continue;
      }
      const cred = await this.deps.store.devices.credential(id).catch(() => null);
      // No previous token left: the device connected with its new one (or was revoked).
      if (!cred || cred.revoked || !cred.previousHash) {
        this.unconfirmed.delete(id);
        continue;
      }
      if (this.link?.isConnected(id)) await this.sendToken(id, cred.generation, cred.previousUntil ?? until);
      if (++n % YIELD_EVERY === 0) await yieldToEventLoop();
    }
  }

  /** The device's current token again (it connected with the previous one). */
  private async resend(id: string): Promise<void> {
    const cred = await this.deps.store.devices.credential(id).catch(() => null);
    if (!cred || cred.revoked || cred.generation === 0 || !cred.previousUntil) return;
    await this.sendToken(id, cred.generation, cred.previousUntil);
  }

  private async sendToken(id: string, generation: number, oldValidUntil: string): Promise<void> {
    const msg: CredentialRotation = {
      v: 1,
      token: this.requireKey().token(id, generation),
      generation,
      oldValidUntil,
      issuedAt: new Date().toISOString(),
    };
    // QoS 1, never retained: a token must not outlive the message on the broker.
    await this.link
      ?.publish({ topic: deviceTopic(this.deps.prefix, id, 'credentials'), payload: encodeMessage(msg), qos: 1, retain: false })
      .catch((err: Error) => this.deps.log.warn('could not send a rotated credential', { device: id, err: err.message }));
  }

  private requireKey(): CredentialKey {
    if (!this.deps.credentialKey)
      throw new DeviceError('DEVICE_BROKER_SYNC_FAILED', 'this server has no credential key: rotation is not available');
    return this.deps.credentialKey;
  }

  /**
   * Creates all the devices or none; each gets a fresh token. Written {@link IMPORT_BATCH} devices per
   * store transaction, yielding to other requests between them (`onProgress` after each); when a batch
   * fails, the batches already written are deleted again before the error is thrown.
   */
  async provision(inputs: ProvisionInput[], actor: string, onProgress?: (p: ImportProgress) => void): Promise<Provisioned[]> {
    if (inputs.length === 0) throw new DeviceError('DEVICE_CSV_INVALID', 'nothing to provision');
    if (inputs.length > MAX_IMPORT_ROWS) throw new DeviceError('DEVICE_BATCH_TOO_LARGE', `at most ${MAX_IMPORT_ROWS} devices at once`);
    const seen = new Set<string>();
    const prepared = await mapYielding(inputs, (d, i) => {
      const id = d.id ?? newDeviceId();
      const where = inputs.length > 1 ? ` (device ${i + 1})` : '';
      if (!isDeviceId(id))
        throw new DeviceError(
          'DEVICE_ID_INVALID',
          `device id '${id.slice(0, 80)}'${where} must match [A-Za-z0-9][A-Za-z0-9_-]{0,63} [WIRE-1.2]`,
        );
      if (seen.has(id)) throw new DeviceError('DEVICE_ID_INVALID', `device id '${id}' appears twice in this batch`);
      seen.add(id);
      checkLabels(d.tags, 'tag', where);
      checkLabels(d.groups, 'group', where);
      return { input: d, id, token: newDeviceToken() };
    });
    const rows = await mapYielding(prepared, (p) => ({
      id: p.id,
      tokenHash: hashDeviceToken(p.token),
      name: p.input.name,
      tags: p.input.tags,
      groups: p.input.groups,
      attributes: p.input.attributes,
    }));
    const created = await this.createInBatches(rows, onProgress);
    await this.syncProvisioned(
      created.map((d, i) => ({ deviceId: d.id, token: prepared[i]!.token, groups: d.groups })),
      actor,
    );
    const at = new Date().toISOString();
    for (let i = 0; i < created.length; i++) {
      await this.deps.store.devices.addEvent({ deviceId: created[i]!.id, at, kind: 'provisioned', detail: { actor } });
      // Each event is its own store write: yield more often than for in-memory work.
      if (i % EVENTS_PER_YIELD === EVENTS_PER_YIELD - 1) await yieldToEventLoop();
    }
    await this.deps.store.audit.record({
      actor,
      action: 'device.provision',
      subject: created.length === 1 ? created[0]!.id : `${created.length} devices`,
      detail: { ids: created.slice(0, 100).map((d) => d.id) },
    });
    return created.map((device, i) => ({ id: device.id, token: prepared[i]!.token, device }));
  }

  /** `createMany` a batch at a time; all or none (see {@link provision}). */
  private async createInBatches(rows: NewDevice[], onProgress?: (p: ImportProgress) => void): Promise<Device[]> {
    const created: Device[] = [];
    try {
      await inSlices(rows, IMPORT_BATCH, async (batch) => {
        created.push(...(await this.deps.store.devices.createMany(batch)));
        onProgress?.({ done: created.length, total: rows.length });
      });
      return created;
    } catch (e) {
      const undone = await this.deps.store.devices.discardNew(created.map((d) => d.id)).catch((err: Error) => {
        this.deps.log.error('could not undo a failed import', { created: created.length, err: err.message });
        return -1;
      });
      if (e instanceof StoreError && e.code === 'DEVICE_EXISTS' && rows.length > 1) {
        // Name the row (provision's callers turn "device N" into their own terms, a CSV line for an import).
        const id = /device '(.*)' already exists/.exec(e.message)?.[1];
        const at = rows.findIndex((r) => r.id === id);
        if (at >= 0)
          throw new StoreError(
            'DEVICE_EXISTS',
            `device '${id}' (device ${at + 1}) already exists; ${undone < 0 ? 'the import could not be undone' : 'nothing was imported'}`,
          );
      }
      throw e;
    }
  }

  /**
   * An external broker keeps its own credentials and gets each token now, the only time it is known.
   * If it refuses, the new devices are revoked: a device the broker cannot authenticate must not look usable.
   */
  private async syncProvisioned(devices: { deviceId: string; token: string; groups: string[] }[], actor: string): Promise<void> {
    const sync = this.link?.credentials;
    if (!sync) return;
    try {
      await sync.provisioned(devices);
    } catch (err) {
      for (const d of devices) await this.deps.store.devices.revoke(d.deviceId);
      await this.deps.store.audit.record({
        actor,
        action: 'device.provision',
        subject: `${devices.length} devices`,
        detail: { failed: String((err as Error).message), revoked: true },
      });
      throw new DeviceError(
        'DEVICE_BROKER_SYNC_FAILED',
        `the MQTT broker did not take the new credentials (the devices were revoked; provision them again): ${(err as Error).message}`,
      );
    }
  }

  /** Provisions every row of a CSV (see device-csv.ts), all or none, reporting progress as batches commit. */
  async importCsv(text: string, actor: string, onProgress?: (p: ImportProgress) => void): Promise<Provisioned[]> {
    const rows = await parseDeviceCsv(text);
    try {
      return await this.provision(
        rows.map((r) => ({ id: r.id ?? undefined, name: r.name, tags: r.tags, groups: r.groups, attributes: r.attributes })),
        actor,
        onProgress,
      );
    } catch (e) {
      // Point at the CSV line rather than the batch position.
      const m = e instanceof DeviceError || e instanceof StoreError ? /\(device (\d+)\)/.exec(e.message) : null;
      if (m) {
        const message = (e as Error).message.replace(m[0], `(line ${rows[Number(m[1]) - 1]!.line})`);
        throw e instanceof DeviceError ? new DeviceError(e.code, message) : new StoreError((e as StoreError).code, message);
      }
      throw e;
    }
  }

  list(filter: DeviceFilter & { after?: string; limit?: number }): Promise<DevicePage> {
    return this.deps.store.devices.list(filter);
  }

  countMatching(filter: DeviceFilter): Promise<number> {
    return this.deps.store.devices.count(filter);
  }

  async show(id: string, events = 20): Promise<DeviceView> {
    const d = await this.deps.store.devices.get(id);
    if (!d) throw notFound(id);
    const cred = await this.deps.store.devices.credential(id);
    const now = this.now();
    return {
      ...d,
      connected: this.link?.isConnected(id) ?? false,
      counters: this.link?.counters.of(id) ?? ({} as CounterSet),
      events: await this.deps.store.devices.events(id, events),
      credential: cred
        ? {
            generation: cred.generation,
            issuedAt: new Date(cred.issuedAt).toISOString(),
            ageSec: Math.max(0, Math.floor((now - Date.parse(cred.issuedAt)) / 1000)),
            nextRotationAt: this.nextRotation && !cred.revoked ? this.nextRotation(cred.issuedAt) : null,
            previousValidUntil: cred.previousUntil && Date.parse(cred.previousUntil) > now ? cred.previousUntil : null,
          }
        : null,
    };
  }

  /** Revokes the credential and disconnects the device at once; it cannot reconnect. */
  async revoke(id: string, actor: string, reason = 'revoked by operator'): Promise<Device> {
    const d = await this.deps.store.devices.get(id);
    if (!d) throw notFound(id);
    if (!d.revokedAt) {
      await this.deps.store.devices.revoke(id);
      await this.deps.store.devices.addEvent({ deviceId: id, at: new Date().toISOString(), kind: 'revoked', detail: { actor, reason } });
      await this.deps.store.audit.record({ actor, action: 'device.revoke', subject: id, detail: { reason } });
    }
    // An external broker forgets the credential (and drops the connection) itself.
    if (this.link?.credentials) await this.link.credentials.revoked(id);
    else this.link?.disconnect(id, reason);
    // Its retained desired state goes too: nothing is kept for a device that can never read it.
    await this.link?.publish({ topic: deviceTopic(this.deps.prefix, id, 'desired'), payload: '', retain: true }).catch(() => undefined);
    return (await this.deps.store.devices.get(id))!;
  }

  /** Adds and removes tags and groups. A device that lost a group is reconnected so its broadcast subscription ends. */
  async relabel(
    id: string,
    change: { addTags?: string[]; removeTags?: string[]; addGroups?: string[]; removeGroups?: string[]; name?: string },
    actor: string,
  ): Promise<Device> {
    const d = await this.deps.store.devices.get(id);
    if (!d) throw notFound(id);
    checkLabels(change.addTags, 'tag', '');
    checkLabels(change.addGroups, 'group', '');
    const tags = [...d.tags, ...(change.addTags ?? [])].filter((t) => !(change.removeTags ?? []).includes(t));
    const groups = [...d.groups, ...(change.addGroups ?? [])].filter((g) => !(change.removeGroups ?? []).includes(g));
    const updated = (await this.deps.store.devices.update(id, { tags, groups, name: change.name }))!;
    await this.deps.store.devices.addEvent({
      deviceId: id,
      at: new Date().toISOString(),
      kind: 'relabelled',
      detail: { actor, tags: updated.tags, groups: updated.groups },
    });
    // An external broker applies the new groups to its own ACLs (and reconnects a device that lost one).
    if (this.link?.credentials) {
      if (updated.groups.join('\n') !== d.groups.join('\n')) await this.link.credentials.regrouped(id, updated.groups);
    } else if (d.groups.some((g) => !updated.groups.includes(g))) this.link?.disconnect(id, 'group membership changed');
    return updated;
  }
}

function checkLabels(labels: string[] | undefined, what: string, where: string): void {
  for (const l of labels ?? []) {
    if (!LABEL.test(l))
      throw new DeviceError(
        'DEVICE_LABEL_INVALID',
        `${what} '${l.slice(0, 80)}'${where} must be 1-64 characters of letters, digits, '_', '.', '-'`,
      );
  }
}

const notFound = (id: string) => new DeviceError('DEVICE_NOT_FOUND', `device '${id}' was not found`);

/** Rows handled between yields to the event loop in a bulk import: a 50k-row import froze the API for 30 s. */
const YIELD_EVERY = 500;
/** Timeline events written between yields in a bulk import. */
const EVENTS_PER_YIELD = 100;
/** Devices written per store transaction in a bulk import (one 50k-row transaction held the loop 2 s). */
const IMPORT_BATCH = 500;
const yieldToEventLoop = () => new Promise<void>((r) => setImmediate(r));

/** `items.map(f)`, letting other requests run every {@link YIELD_EVERY} items. */
async function mapYielding<T, U>(items: readonly T[], f: (item: T, i: number) => U): Promise<U[]> {
  const out: U[] = [];
  for (let i = 0; i < items.length; i++) {
    out.push(f(items[i]!, i));
    if (i % YIELD_EVERY === YIELD_EVERY - 1) await yieldToEventLoop();
  }
  return out;
}

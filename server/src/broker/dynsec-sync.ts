// Keeps Mosquitto's dynamic-security clients in step with the device registry: live changes as they
// happen (CredentialSync) and a full reconcile on start, both in batches so 10,000 devices stay cheap.
import type { Logger } from '../log/logger.ts';
import type { CredentialSync } from './broker-link.ts';
import {
  createDeviceCommands,
  createGroupCommands,
  deleteDeviceCommands,
  DEVICE_TEXTNAME,
  deviceRole,
  flotillaGroups,
  missingAclCommands,
  regroupCommands,
  serverAcls,
  SERVER_ROLE,
  type DynsecAcl,
} from './dynsec-acl.ts';
import { MAX_BATCH, type DynsecClient, type DynsecCommand } from './dynsec-client.ts';
import { NewestGenerations } from './newest-generations.ts';

/** One page of live (not revoked) devices, by id. */
export type RegistryPages = (
  after: string | null,
  limit: number,
) => Promise<{ devices: { id: string; groups: string[] }[]; next: string | null }>;

export interface ReconcileReport {
  /** Live devices in the registry. */
  devices: number;
  /** Live devices without a broker client: their token is unknown here, so they must get a new one (docs/external-broker.md). */
  missing: string[];
  /** Broker clients removed because their device is revoked or gone. */
  removed: number;
  /** Devices whose group memberships were corrected. */
  regrouped: number;
  /** Device roles that lacked an ACL of the current wire rules (e.g. `credentials`, added later) and got it. */
  upgraded: number;
}

const EXISTS = ['already exists'];
const GONE = ['not found'];

interface DynsecListedClient {
  username: string;
  textname?: string;
  groups?: { groupname: string }[];
}

export class DynsecSync implements CredentialSync {
  /** Groups known to exist on the broker (created once per process). */
  private readonly groups = new Set<string>();
  private readonly written = new NewestGenerations();

  constructor(
    private readonly dynsec: DynsecClient,
    private readonly prefix: string,
    private readonly log: Logger,
  ) {}

  /** Creates the server's role (idempotent); returns whether `username` already holds it. */
  async ensureServerRole(username: string): Promise<boolean> {
    await this.dynsec.must([{ command: 'createRole', rolename: SERVER_ROLE, acls: serverAcls(this.prefix) }], EXISTS);
    const [r] = await this.dynsec.must([{ command: 'getClient', username }]);
    const roles = ((r!.data?.client as { roles?: { rolename: string }[] } | undefined)?.roles ?? []).map((x) => x.rolename);
    return roles.includes(SERVER_ROLE);
  }

  async provisioned(devices: readonly { deviceId: string; token: string; groups: readonly string[] }[]): Promise<void> {
    await this.ensureGroups(devices.flatMap((d) => d.groups));
    const perBatch = Math.floor(MAX_BATCH / 2);
    for (let i = 0; i < devices.length; i += perBatch) {
      const batch = devices.slice(i, i + perBatch);
      const answers = await this.dynsec.send(batch.flatMap((d) => createDeviceCommands(this.prefix, d, d.token)));
      for (const [j, d] of batch.entries()) {
        const client = answers[j * 2 + 1]!;
        if (!client.error) continue;
        // A client left over from a device of the same id that no longer exists here: replace it.
        if (!client.error.includes('already exists')) throw new Error(`mosquitto refused device ${d.deviceId}: ${client.error}`);
        await this.dynsec.must(deleteDeviceCommands(d.deviceId), GONE);
        await this.dynsec.must(createDeviceCommands(this.prefix, d, d.token));
      }
    }
  }

  /**
   * One password per client: Mosquitto keeps no previous one, and it disconnects a client whose password
   * changes, so the device reconnects with the new token it was sent first. A write older than one already sent for the
   * same device is dropped (newest-generations.ts): the broker ends on the device's newest token.
   */
  async rotated(devices: readonly { deviceId: string; token: string; generation: number }[]): Promise<void> {
    for (let i = 0; i < devices.length; i += MAX_BATCH) {
      // Claimed right before the send, with no await between: claims are in the order the broker gets them.
      const batch = devices.slice(i, i + MAX_BATCH).filter((d) => this.written.claim(d.deviceId, d.generation));
      const answers = await this.dynsec.send(batch.map((d) => ({ command: 'setClientPassword', username: d.deviceId, password: d.token })));
      for (const [j, d] of batch.entries()) {
        const error = answers[j]!.error;
        if (error) throw new Error(`mosquitto refused the new credential of ${d.deviceId}: ${error}`);
      }
    }
  }

  async revoked(deviceId: string): Promise<void> {
    await this.dynsec.must(deleteDeviceCommands(deviceId), GONE);
  }

  async regrouped(deviceId: string, groups: readonly string[]): Promise<void> {
    const [r] = await this.dynsec.send([{ command: 'getClient', username: deviceId }]);
    if (r!.error) return this.log.warn('device has no broker client to regroup', { device: deviceId, err: r!.error });
    const have = flotillaGroups((r!.data?.client as DynsecListedClient).groups);
    await this.ensureGroups(groups);
    await this.runBatched(regroupCommands(deviceId, have, groups), GONE);
  }

  /**
   * Makes the broker's device clients match the registry: removes clients of revoked or unknown
   * devices, corrects group memberships, and reports live devices that have no client.
   */
  async reconcile(registry: RegistryPages, pageSize = 1000): Promise<ReconcileReport> {
    const clients = await this.listDeviceClients(pageSize);
    const roles = await this.listDeviceRoles(pageSize);
    const report: ReconcileReport = { devices: 0, missing: [], removed: 0, regrouped: 0, upgraded: 0 };
    let after: string | null = null;
    const fixes: DynsecCommand[] = [];
    do {
      const page = await registry(after, pageSize);
      report.devices += page.devices.length;
      await this.ensureGroups(page.devices.flatMap((d) => d.groups));
      for (const d of page.devices) {
        const have = clients.get(d.id);
        clients.delete(d.id);
        if (!have) {
          report.missing.push(d.id);
          continue;
        }
        const cmds = regroupCommands(d.id, have, d.groups);
        if (cmds.length) report.regrouped++;
        fixes.push(...cmds);
        // A role made before an ACL joined the wire rules (the `credentials` topic) gets what it lacks;
        // a role that has every ACL gets no command, so reconciling twice changes nothing.
        const upgrade = missingAclCommands(this.prefix, d.id, roles.get(deviceRole(d.id)) ?? null);
        if (upgrade.length) report.upgraded++;
        fixes.push(...upgrade);
      }
      after = page.next;
    } while (after);
    for (const id of clients.keys()) fixes.push(...deleteDeviceCommands(id));
    report.removed = clients.size;
    await this.runBatched(fixes, GONE);
    return report;
  }

  /** Every dynsec client this server created, by device id, with its Flotilla groups. */
  private async listDeviceClients(pageSize: number): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    for (let offset = 0; ; offset += pageSize) {
      const [r] = await this.dynsec.must([{ command: 'listClients', verbose: true, count: pageSize, offset }]);
      const listed = (r!.data?.clients ?? []) as DynsecListedClient[];
      for (const c of listed) if (c.textname === DEVICE_TEXTNAME) out.set(c.username, flotillaGroups(c.groups));
      if (listed.length < pageSize) return out;
    }
  }

  /** Every Flotilla device role on the broker with its ACLs, by role name. */
  private async listDeviceRoles(pageSize: number): Promise<Map<string, DynsecAcl[]>> {
    const out = new Map<string, DynsecAcl[]>();
    const head = deviceRole('');
    for (let offset = 0; ; offset += pageSize) {
      const [r] = await this.dynsec.must([{ command: 'listRoles', verbose: true, count: pageSize, offset }]);
      const listed = (r!.data?.roles ?? []) as { rolename: string; acls?: DynsecAcl[] }[];
      for (const role of listed) if (role.rolename.startsWith(head)) out.set(role.rolename, role.acls ?? []);
      if (listed.length < pageSize) return out;
    }
  }

  private async ensureGroups(groups: readonly string[]): Promise<void> {
    const fresh = [...new Set(groups)].filter((g) => !this.groups.has(g));
    await this.runBatched(
      fresh.flatMap((g) => createGroupCommands(this.prefix, g)),
      EXISTS,
    );
    for (const g of fresh) this.groups.add(g);
  }

  private async runBatched(commands: DynsecCommand[], tolerated: string[]): Promise<void> {
    for (let i = 0; i < commands.length; i += MAX_BATCH) await this.dynsec.must(commands.slice(i, i + MAX_BATCH), tolerated);
  }
}

// A Mosquitto dynamic-security.json written directly, with the same clients and roles the server
// creates through the control API. For a broker that does not run yet: benchmarks and large test
// fleets (the plugin rewrites its whole file after every command, so creating 10,000 devices one
// command at a time takes hours; see docs/external-broker.md).
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { deviceAcls, deviceRole, DEVICE_TEXTNAME, groupAcls, groupName, serverAcls, SERVER_ROLE, type DynsecAcl } from './dynsec-acl.ts';

/** What Mosquitto 2.0 uses: PBKDF2-HMAC-SHA512, 101 iterations, 12-byte salt, 64-byte hash, base64. */
const ITERATIONS = 101;

function hashed(password: string): { password: string; salt: string; iterations: number } {
  const salt = randomBytes(12);
  return {
    password: pbkdf2Sync(password, salt, ITERATIONS, 64, 'sha512').toString('base64'),
    salt: salt.toString('base64'),
    iterations: ITERATIONS,
  };
}

/** The ACLs `mosquitto_ctrl dynsec init` gives its admin role (control API, $SYS, read everything). */
const ADMIN_ACLS: DynsecAcl[] = [
  { acltype: 'publishClientSend', topic: '$CONTROL/dynamic-security/#', allow: true },
  { acltype: 'publishClientReceive', topic: '$CONTROL/dynamic-security/#', allow: true },
  { acltype: 'subscribePattern', topic: '$CONTROL/dynamic-security/#', allow: true },
  { acltype: 'publishClientReceive', topic: '$SYS/#', allow: true },
  { acltype: 'subscribePattern', topic: '$SYS/#', allow: true },
  { acltype: 'publishClientReceive', topic: '#', allow: true },
  { acltype: 'subscribePattern', topic: '#', allow: true },
  { acltype: 'unsubscribePattern', topic: '#', allow: true },
];

export interface SeedOptions {
  prefix: string;
  /** The server's user: the admin role plus the server role. */
  admin: { username: string; password: string };
  devices: readonly { deviceId: string; token: string; groups: readonly string[] }[];
}

/** The plugin's JSON document (write it with JSON.stringify before starting Mosquitto). */
export function dynsecSeed(o: SeedOptions): Record<string, unknown> {
  const groups = [...new Set(o.devices.flatMap((d) => d.groups))];
  return {
    defaultACLAccess: { publishClientSend: false, publishClientReceive: true, subscribe: false, unsubscribe: true },
    clients: [
      {
        username: o.admin.username,
        textname: 'Flotilla server',
        ...hashed(o.admin.password),
        roles: [{ rolename: 'admin' }, { rolename: SERVER_ROLE }],
      },
      ...o.devices.map((d) => ({
        username: d.deviceId,
        clientid: d.deviceId,
        textname: DEVICE_TEXTNAME,
        ...hashed(d.token),
        roles: [{ rolename: deviceRole(d.deviceId) }],
      })),
    ],
    // Memberships are read from the groups' side when the plugin loads its file.
    groups: groups.map((g) => ({
      groupname: groupName(g),
      roles: [{ rolename: groupName(g) }],
      clients: o.devices.filter((d) => d.groups.includes(g)).map((d) => ({ username: d.deviceId })),
    })),
    roles: [
      { rolename: 'admin', acls: ADMIN_ACLS },
      { rolename: SERVER_ROLE, acls: serverAcls(o.prefix) },
      ...o.devices.map((d) => ({ rolename: deviceRole(d.deviceId), acls: deviceAcls(o.prefix, d.deviceId) })),
      ...groups.map((g) => ({ rolename: groupName(g), acls: groupAcls(o.prefix, g) })),
    ],
  };
}

// The wire spec's authorization rules [WIRE-1.3..1.5] written as Mosquitto dynamic-security objects:
// one client and one role per device, one group and one role per Flotilla group, and the server's
// own role. Pure functions, so the mapping is tested without a broker.
import { DEVICE_PUBLISH, DEVICE_SUBSCRIBE, deviceTopic, groupTopic } from '@flotilla/firmware-bundler/wire';
import type { DynsecCommand } from './dynsec-client.ts';

/** Marks the dynsec clients this server owns; reconciling never touches any other client. */
export const DEVICE_TEXTNAME = 'flotilla device';
export const SERVER_ROLE = 'flotilla-server';
export const deviceRole = (deviceId: string): string => `flotilla-device:${deviceId}`;
export const groupName = (group: string): string => `flotilla-group:${group}`;

export interface DynsecAcl {
  acltype: 'publishClientSend' | 'publishClientReceive' | 'subscribeLiteral' | 'subscribePattern' | 'unsubscribePattern';
  topic: string;
  allow: boolean;
  priority?: number;
}

/**
 * [WIRE-1.3, 1.4] literal topics only: a device publishes its own device → server leaves and subscribes
 * to its own server → device leaves by exact filter, so every wildcard filter is refused (1.5). The
 * plugin's default access (publish denied, subscribe denied, receive allowed) covers the rest.
 * (Mosquitto 2.0's dynsec does not expand %u in ACL topics, hence one role per device.)
 */
export function deviceAcls(prefix: string, deviceId: string): DynsecAcl[] {
  return [
    ...DEVICE_PUBLISH.map((leaf) => ({ acltype: 'publishClientSend' as const, topic: deviceTopic(prefix, deviceId, leaf), allow: true })),
    ...DEVICE_SUBSCRIBE.map((leaf) => ({ acltype: 'subscribeLiteral' as const, topic: deviceTopic(prefix, deviceId, leaf), allow: true })),
  ];
}

/** [WIRE-1.4] members of a group may subscribe to its broadcast topic, exactly. */
export const groupAcls = (prefix: string, group: string): DynsecAcl[] => [
  { acltype: 'subscribeLiteral', topic: groupTopic(prefix, group), allow: true },
];

/** The server publishes and subscribes anywhere under the prefix (it bypasses device rules, as with the embedded broker). */
export const serverAcls = (prefix: string): DynsecAcl[] => [
  { acltype: 'publishClientSend', topic: `${prefix}/#`, allow: true },
  { acltype: 'publishClientReceive', topic: `${prefix}/#`, allow: true },
  { acltype: 'subscribePattern', topic: `${prefix}/#`, allow: true },
];

/** What a device's dynsec objects should be, for creating them and for comparing with what the broker has. */
export interface DeviceGrant {
  deviceId: string;
  groups: readonly string[];
}

/**
 * Commands that create a device's role and client in one go: username and client id are the device
 * id [WIRE-1.6], the password is its token (the plugin keeps its own salted hash).
 */
export function createDeviceCommands(prefix: string, d: DeviceGrant, token: string): DynsecCommand[] {
  return [
    { command: 'createRole', rolename: deviceRole(d.deviceId), acls: deviceAcls(prefix, d.deviceId) },
    {
      command: 'createClient',
      username: d.deviceId,
      clientid: d.deviceId,
      password: token,
      textname: DEVICE_TEXTNAME,
      roles: [{ rolename: deviceRole(d.deviceId) }],
      groups: d.groups.map((g) => ({ groupname: groupName(g) })),
    },
  ];
}

/**
 * `addRoleACL` commands for the ACLs of {@link deviceAcls} that a device's existing role lacks (a role
 * created before an ACL joined the rules). `have` null: the role is not on the broker (nothing to upgrade;
 * a missing client is reported by the reconcile). Acl types are compared case-insensitively because the
 * plugin lists them in lower case.
 */
export function missingAclCommands(prefix: string, deviceId: string, have: readonly DynsecAcl[] | null): DynsecCommand[] {
  if (!have) return [];
  const key = (a: { acltype: string; topic: string }) => `${a.acltype.toLowerCase()}\n${a.topic}`;
  const present = new Set(have.map(key));
  return deviceAcls(prefix, deviceId)
    .filter((a) => !present.has(key(a)))
    .map((a) => ({ command: 'addRoleACL', rolename: deviceRole(deviceId), ...a }));
}

/** Commands that create a group's role and group; `Role/Group already exists` answers are expected. */
export function createGroupCommands(prefix: string, group: string): DynsecCommand[] {
  return [
    { command: 'createRole', rolename: groupName(group), acls: groupAcls(prefix, group) },
    { command: 'createGroup', groupname: groupName(group), roles: [{ rolename: groupName(group) }] },
  ];
}

/** Removes a device's client and role; the plugin disconnects it if it is connected. */
export const deleteDeviceCommands = (deviceId: string): DynsecCommand[] => [
  { command: 'deleteClient', username: deviceId },
  { command: 'deleteRole', rolename: deviceRole(deviceId) },
];

/** Brings a device's group memberships from `have` to `want` (the plugin reconnects it when it changes). */
export function regroupCommands(deviceId: string, have: readonly string[], want: readonly string[]): DynsecCommand[] {
  return [
    ...want.filter((g) => !have.includes(g)).map((g) => ({ command: 'addGroupClient', groupname: groupName(g), username: deviceId })),
    ...have.filter((g) => !want.includes(g)).map((g) => ({ command: 'removeGroupClient', groupname: groupName(g), username: deviceId })),
  ];
}

/** The Flotilla group names among a dynsec client's groups. */
export function flotillaGroups(groups: readonly { groupname: string }[] | undefined): string[] {
  const head = groupName('');
  return (groups ?? [])
    .map((g) => g.groupname)
    .filter((n) => n.startsWith(head))
    .map((n) => n.slice(head.length));
}

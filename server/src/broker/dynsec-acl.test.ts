import { describe, expect, it } from 'vitest';
import { createDeviceCommands, deviceAcls, flotillaGroups, groupName, missingAclCommands, regroupCommands } from './dynsec-acl.ts';

describe('dynsec objects for the wire rules [WIRE-1.3..1.5]', () => {
  it('lets a device publish its device → server leaves and subscribe to its server → device leaves, literally', () => {
    const acls = deviceAcls('flotilla/v1', 'dev-a');
    expect(acls.filter((a) => a.acltype === 'publishClientSend').map((a) => a.topic.split('dev-a/')[1])).toEqual([
      'reported',
      'status',
      'telemetry',
      'samples',
      'chunks/req',
      'presence',
    ]);
    expect(acls.filter((a) => a.acltype === 'subscribeLiteral').map((a) => a.topic.split('dev-a/')[1])).toEqual([
      'desired',
      'chunks/res',
      'ack',
      'credentials',
    ]);
    // No wildcard anywhere: a pattern ACL would grant more than the wire spec allows.
    expect(acls.every((a) => a.allow && !/[+#%]/.test(a.topic))).toBe(true);
  });

  it('creates a client whose username and client id are the device id [WIRE-1.6]', () => {
    const [, client] = createDeviceCommands('flotilla/v1', { deviceId: 'dev-a', groups: ['canary'] }, 'fdt_x');
    expect(client).toMatchObject({
      command: 'createClient',
      username: 'dev-a',
      clientid: 'dev-a',
      password: 'fdt_x',
      groups: [{ groupname: groupName('canary') }],
    });
  });

  it('moves group memberships by difference, and reads back only Flotilla groups', () => {
    expect(regroupCommands('dev-a', ['a', 'b'], ['b', 'c']).map((c) => `${c.command} ${String(c.groupname)}`)).toEqual([
      `addGroupClient ${groupName('c')}`,
      `removeGroupClient ${groupName('a')}`,
    ]);
    expect(flotillaGroups([{ groupname: groupName('x') }, { groupname: 'ops' }])).toEqual(['x']);
  });

  it('upgrades a role by exactly the ACLs it lacks (the plugin lists acl types in lower case)', () => {
    const all = deviceAcls('flotilla/v1', 'dev-a');
    const listed = all.filter((a) => !a.topic.endsWith('/credentials')).map((a) => ({ ...a, acltype: a.acltype.toLowerCase() as never }));
    expect(missingAclCommands('flotilla/v1', 'dev-a', listed)).toEqual([
      {
        command: 'addRoleACL',
        rolename: 'flotilla-device:dev-a',
        acltype: 'subscribeLiteral',
        topic: 'flotilla/v1/devices/dev-a/credentials',
        allow: true,
      },
    ]);
    expect(missingAclCommands('flotilla/v1', 'dev-a', all)).toEqual([]);
    expect(missingAclCommands('flotilla/v1', 'dev-a', null)).toEqual([]);
  });
});

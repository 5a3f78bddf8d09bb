// Topic authorization rules [WIRE-1.3..1.5], case by case.
import { describe, expect, it } from 'vitest';
import { canPublish, canSubscribe, mayRetain } from './acl.ts';

const P = 'flotilla/v1';
const a = { deviceId: 'dev-a', groups: ['eu', 'canary'] };

describe('device ACL', () => {
  it.each([
    ['reported', true],
    ['status', true],
    ['telemetry', true],
    ['samples', true],
    ['chunks/req', true],
    ['presence', true],
    ['desired', false],
    ['chunks/res', false],
    ['ack', false],
    ['telemetry/extra', false],
    ['', false],
  ])('[WIRE-1.3] own leaf %s → %s', (leaf, ok) => {
    expect(canPublish(P, 'dev-a', `${P}/devices/dev-a/${leaf}`)).toBe(ok);
  });

  it("[WIRE-1.3] never into another device, another prefix, a group or the broker's $SYS", () => {
    for (const topic of [
      `${P}/devices/dev-b/telemetry`,
      `other/v1/devices/dev-a/telemetry`,
      `${P}/groups/eu/broadcast`,
      `$SYS/x`,
      `${P}/devices/dev-a`,
      `${P}/devices//telemetry`,
      'dev-a/telemetry',
    ]) {
      expect(canPublish(P, 'dev-a', topic)).toBe(false);
    }
  });

  it.each([
    [`${P}/devices/dev-a/desired`, true],
    [`${P}/devices/dev-a/chunks/res`, true],
    [`${P}/devices/dev-a/ack`, true],
    [`${P}/groups/eu/broadcast`, true],
    [`${P}/groups/canary/broadcast`, true],
    [`${P}/devices/dev-a/telemetry`, false],
    [`${P}/devices/dev-b/desired`, false],
    [`${P}/devices/dev-b/chunks/res`, false],
    [`${P}/groups/us/broadcast`, false],
    [`${P}/devices/dev-a/#`, false],
    [`${P}/devices/+/desired`, false],
    [`${P}/devices/dev-a/+`, false],
    ['#', false],
    [`${P}/#`, false],
    [`${P}/groups/+/broadcast`, false],
    ['$SYS/#', false],
  ])('[WIRE-1.4, 1.5] subscribe %s → %s', (filter, ok) => {
    expect(canSubscribe(P, a, filter)).toBe(ok);
  });

  it('keeps retained only what is meant to be retained', () => {
    expect(mayRetain(P, `${P}/devices/dev-a/reported`)).toBe(true);
    expect(mayRetain(P, `${P}/devices/dev-a/presence`)).toBe(true);
    expect(mayRetain(P, `${P}/devices/dev-a/telemetry`)).toBe(false);
  });
});

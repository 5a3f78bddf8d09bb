// Every flag that once took a secret is refused with where the secret goes instead (the spawned CLI's exit
// code and "nothing sent" are in test/walkthrough/secret-flags.test.ts); look-alikes pass.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT } from './exit-codes.ts';
import { readSecretFile, refuseSecretFlags } from './secret-flags.ts';

const refusal = (args: string[]) => {
  try {
    refuseSecretFlags(args);
    return null;
  } catch (e) {
    const err = e as { code: string; exit: number; message: string };
    return { code: err.code, exit: err.exit, message: err.message };
  }
};

describe('refuseSecretFlags', () => {
  it.each([
    [['models', 'list', '--token', 'flt_x'], '--token-file FILE, or the environment: FLOTILLA_TOKEN'],
    [['models', 'list', '--token=flt_x'], '--token-file FILE'],
    [['server', '--admin-token', 'x'], 'FLOTILLA_ADMIN_TOKEN'],
    [['server', '--mqtt-admin-password', 'pw'], '--mqtt-admin-password-file FILE, or the environment: FLOTILLA_MQTT_ADMIN_PASSWORD'],
    [['server', '--mqtt-url', 'mqtt://admin:pw@127.0.0.1:1883'], 'FLOTILLA_MQTT_URL'],
    [['server', '--mqtt-url=mqtts://admin:pw@broker:8883'], 'FLOTILLA_MQTT_URL'],
    [['webhooks', 'add', 'https://h.example', '--events', '*', '--secret', 'whsec_x'], '--secret-file FILE'],
    [['agent', '--device-id', 'x', '--claim', 'c'], '--claim-file FILE, or the environment: FLOTILLA_CLAIM'],
    [['anything', '--password', 'pw'], 'environment variable'],
    [['server', '--store', 'postgres://flotilla:pw@db/flotilla'], 'set PGPASSWORD, or put the whole URL in FLOTILLA_STORE'],
  ])('refuses %j', (args, instead) => {
    const r = refusal(args);
    expect(r).toMatchObject({ code: 'SECRET_ON_COMMAND_LINE', exit: EXIT.USAGE });
    expect(r!.message).toContain('can be read by every user of this machine');
    expect(r!.message).toContain(instead);
  });

  it.each([
    [['models', 'list', '--token-file', 'f']],
    [['server', '--mqtt-url', 'mqtt://admin@127.0.0.1:1883', '--mqtt-admin-password-file', 'pw.txt']],
    [['server', '--store', 'postgres://postgres@127.0.0.1:5432/flotilla']],
    [['webhooks', 'add', 'u', '--secret-file', 's']],
    [['agent', '--device-id', 'x', '--token-file', 't', '--claim-file', 'c']],
    // After `--` arguments are data, not flags.
    [['run', '--', '--token', 'x']],
  ])('lets %j pass', (args) => {
    expect(refusal(args)).toBeNull();
  });
});

describe('readSecretFile', () => {
  it('reads the first line, trimmed; an unreadable or empty file is a usage error naming the flag', () => {
    const dir = mkdtempSync(join(tmpdir(), 'secret-file-'));
    writeFileSync(join(dir, 'ok'), '  s3cret  \nignored\n');
    writeFileSync(join(dir, 'empty'), '\n');
    expect(readSecretFile(join(dir, 'ok'), '--secret-file')).toBe('s3cret');
    expect(() => readSecretFile(join(dir, 'empty'), '--secret-file')).toThrow(`--secret-file ${join(dir, 'empty')} is empty`);
    expect(() => readSecretFile(join(dir, 'none'), '--mqtt-admin-password-file')).toThrow(/cannot read --mqtt-admin-password-file/);
  });
});

// The CLI's commands on the typed client against a real server: the answers they print, and refusals
// mapped to the documented exit codes (4 token refused, 5 not found, 6 rejected).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startServerProcess, type ServerHandle } from '../support/server-process.ts';

let srv: ServerHandle;
const cli = async (...args: string[]) => {
  const r = await runCli([...args, '--json'], { FLOTILLA_SERVER: srv.url, FLOTILLA_TOKEN: srv.token });
  return { code: r.code, json: r.stdout.trim() ? JSON.parse(r.stdout) : null, stderr: r.stderr };
};

beforeAll(async () => {
  srv = await startServerProcess();
});
afterAll(async () => srv?.dispose());

describe('flotilla CLI on the typed API client', () => {
  it('lists and shows what the server holds', async () => {
    const ds = await cli('dataset', 'show', 'mnist');
    expect(ds.code).toBe(0);
    expect(ds.json).toMatchObject({ name: 'mnist', rows: 10000, featureShape: [28, 28, 1] });
    for (const [cmd, key] of [
      ['models', 'models'],
      ['runs', 'runs'],
      ['bundles', 'bundles'],
      ['tokens', 'tokens'],
    ] as const) {
      const r = await cli(cmd, 'list');
      expect(r.code, `${cmd} list: ${r.stderr}`).toBe(0);
      expect(Array.isArray(r.json[key])).toBe(true);
    }
  });

  it('issues and revokes a token', async () => {
    const made = await cli('tokens', 'create', '--name', 'ci', '--role', 'viewer');
    expect(made.code).toBe(0);
    expect(made.json.info).toMatchObject({ name: 'ci', role: 'viewer', revokedAt: null });
    expect((await cli('tokens', 'revoke', made.json.info.id)).json).toEqual({ revoked: true });
  });

  it('maps refusals to exit codes', async () => {
    expect((await cli('runs', 'show', 'run_missing')).code).toBe(5);
    expect((await cli('models', 'show', 'nothing-here')).code).toBe(5);
    expect((await cli('models', 'alias', 'nothing@1', 'BAD ALIAS', '--reason', 'x')).code).toBe(6);
    const refused = await runCli(['tokens', 'list', '--json'], { FLOTILLA_SERVER: srv.url, FLOTILLA_TOKEN: 'fot_wrong' });
    expect(refused.code).toBe(4);
  });
});

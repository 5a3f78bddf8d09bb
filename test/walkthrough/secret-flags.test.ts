// Secrets never on the command line (issue 16, Low): `ps` shows every user a process's arguments. Each flag
// that once took a token, claim, secret or password is a usage error (exit 2) that says where the secret
// goes instead, and nothing is sent: a real HTTP server counts the requests that reach it. The file and
// environment forms work, and --help says so.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../support/server-process.ts';

let server: Server;
let url = '';
const seen: { path: string; authorization: string | undefined }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push({ path: req.url ?? '', authorization: req.headers.authorization });
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ models: [] }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

// No token from the environment of whoever runs the tests.
const env = () => ({ FLOTILLA_SERVER: url, FLOTILLA_TOKEN: '', FLOTILLA_ADMIN_TOKEN: '', FLOTILLA_DATA: join(tmpdir(), 'nowhere') });

it('refuses --token with a usage error naming --token-file and FLOTILLA_TOKEN, and sends nothing', async () => {
  for (const args of [
    ['models', 'list', '--token', 'flt_secret'],
    ['models', 'list', '--token=flt_secret'],
  ]) {
    const r = await runCli(args, env());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error [SECRET_ON_COMMAND_LINE]: --token is not accepted');
    expect(r.stderr).toContain('Use --token-file FILE, or the environment: FLOTILLA_TOKEN');
  }
  const json = await runCli(['models', 'list', '--json', '--token', 'flt_secret'], env());
  expect(json.code).toBe(2);
  expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, error: { code: 'SECRET_ON_COMMAND_LINE' } });
  expect(seen).toEqual([]);
}, 60_000);

it("refuses the agent's and the server's secret flags the same way, before anything runs (the rest: secret-flags.test.ts)", async () => {
  const cases: [string[], string][] = [
    [['server', '--mqtt-url', 'mqtt://admin:pw@127.0.0.1:1'], 'FLOTILLA_MQTT_URL'],
    [['agent', '--device-id', 'x', '--data', join(tmpdir(), 'nowhere'), '--token', 'fdt_x'], 'FLOTILLA_DEVICE_TOKEN'],
  ];
  for (const [args, instead] of cases) {
    const r = await runCli(args, env());
    expect({ args, code: r.code }).toEqual({ args, code: 2 });
    expect(r.stderr).toContain('error [SECRET_ON_COMMAND_LINE]');
    expect(r.stderr).toContain(instead);
  }
  expect(seen).toEqual([]);
}, 60_000);

it('takes the token from --token-file or FLOTILLA_TOKEN, and --help says never --token', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'secret-flags-')), 'token');
  writeFileSync(file, 'flt_from_file\n', { mode: 0o600 });
  const fromFile = await runCli(['models', 'list', '--json', '--token-file', file], env());
  expect(fromFile.code).toBe(0);
  const fromEnv = await runCli(['models', 'list', '--json'], { ...env(), FLOTILLA_TOKEN: 'flt_from_env' });
  expect(fromEnv.code).toBe(0);
  expect(seen.map((s) => s.authorization)).toEqual(['Bearer flt_from_file', 'Bearer flt_from_env']);
  const help = await runCli(['models', 'list', '--help'], env());
  expect(help.stdout).toContain('--token-file <file>');
  expect(help.stdout).not.toMatch(/--token </);
  expect(help.stdout).toContain('never --token');
  const top = await runCli(['--help'], env());
  expect(top.stdout).toContain('Secrets (tokens, claims, passwords) are never taken on the command line');
}, 60_000);

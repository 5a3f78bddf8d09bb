// docs/walkthrough.md, run: every ```sh walkthrough block of the page, in order, in one bash shell, from a fresh
// folder (a package.json and this checkout's node_modules, so it looks like a checkout to the page's commands),
// with free ports in place of 8080, 1883 and 8081. A real `flotilla server`, a real agent process and real
// HTTP: the page is what a new operator follows, so it must end with a model answering on the device.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, runCli, startServerProcess, type ServerHandle } from '../support/server-process.ts';

/** The commands of the page: the bodies of its ```sh walkthrough fences, in order. */
export function walkthroughBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```sh walkthrough\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

/** This environment without anything a user's shell would not have on a first try (tokens, data folders, servers). */
function cleanEnv(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env).filter(([k, v]) => v !== undefined && !k.startsWith('FLOTILLA_') && !k.startsWith('npm_')),
  ) as Record<string, string>;
}

describe('docs/walkthrough.md', () => {
  const page = readFileSync(join(REPO, 'docs/walkthrough.md'), 'utf8');

  it('has the steps a new operator needs, as runnable blocks', () => {
    const all = walkthroughBlocks(page).join('\n');
    for (const step of [
      'flotilla server',
      'flotilla train',
      'flotilla devices add',
      'flotilla agent',
      'flotilla rollout create --model',
      '--target id=',
      'flotilla bundle show',
      '/v1/predict',
      'kill $(jobs -p)',
    ]) {
      expect(all).toContain(step);
    }
  });

  it('takes a fresh data folder to a model serving predictions on a real agent, with only the documented commands', async () => {
    const ports = { 8080: await freePort(), 1883: await freePort(), 8081: await freePort() };
    const script = walkthroughBlocks(page)
      .join('\n')
      .replace(/\b(8080|1883|8081)\b/g, (p) => String(ports[Number(p) as keyof typeof ports]));
    const dir = mkdtempSync(join(tmpdir(), 'flotilla-walkthrough-'));
    writeFileSync(join(dir, 'package.json'), '{ "name": "walkthrough", "private": true }\n');
    symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
    // A process group of its own, so whatever the page leaves running is stopped even when a step fails.
    const sh = spawn('bash', ['-c', `set -euo pipefail\n${script}`], {
      cwd: dir,
      env: cleanEnv(),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    sh.stdout.on('data', (d) => (out += d));
    sh.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => process.kill(-sh.pid!, 'SIGKILL'), 400_000);
    const code = await new Promise<number | null>((r) => sh.once('exit', (c) => r(c)));
    clearTimeout(timer);
    try {
      process.kill(-sh.pid!, 'SIGKILL');
    } catch {
      /* the page's own `kill` stopped everything */
    }
    const logs = () =>
      ['server.log', 'agent.log']
        .map((f) => `--- ${f}\n${existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8').slice(-3000) : '(none)'}`)
        .join('\n');
    expect(code, `the walkthrough failed\nstdout:\n${out.slice(-4000)}\nstderr:\n${err.slice(-4000)}\n${logs()}`).toBe(0);

    // The server printed its key's fingerprint, and the agent trusted that key after fetching it.
    const fingerprint = /bundle key: (SHA256:[0-9a-f]{64})/.exec(readFileSync(join(dir, 'server.log'), 'utf8'))?.[1];
    expect(fingerprint).toBeDefined();
    expect(readFileSync(join(dir, 'agent.log'), 'utf8')).toContain(
      `[agent] trust {"keyFile":"${join('cam-1', 'trusted-key.pub.json')}","fingerprint":"${fingerprint}","fetched":true}`,
    );
    // rollout create made the missing bundle; bundle show described the input.
    expect(err).toMatch(/digits@1 has no bundle yet: bundling it/);
    expect(out).toMatch(/input {3}\S+: float32 \[N, 28, 28, 1\], one row = 784 numbers/);
    // The last line is the device's answer to the example body.
    const answer = JSON.parse(out.trim().split('\n').pop()!);
    expect(answer).toMatchObject({
      model: { name: 'digits', version: '1.0.0' },
      predictionId: expect.any(String),
      confidence: expect.any(Number),
    });
    expect(String(answer.top1)).toMatch(/^[0-9]$/);
    rmSync(dir, { recursive: true, force: true });
  }, 420_000);
});

describe('first-hour refusals, on a real server', () => {
  let srv: ServerHandle;
  beforeAll(async () => {
    srv = await startServerProcess();
  });
  afterAll(async () => srv?.dispose());

  it('an agent refuses a server key that does not match the fingerprint it was given, and keeps nothing', async () => {
    const data = mkdtempSync(join(tmpdir(), 'agent-wrong-fp-'));
    const wrong = `SHA256:${'ab'.repeat(32)}`;
    const r = await runCli(['agent', '--device-id', 'cam-x', '--data', data], {
      FLOTILLA_DEVICE_TOKEN: 'unused',
      FLOTILLA_SERVER: srv.url,
      FLOTILLA_TRUST_FINGERPRINT: wrong,
    });
    expect(r.code).toBe(1);
    const { keys } = (await srv.api('GET', '/api/v1/keys', undefined, '')).body;
    expect(r.stderr).toContain(
      `error [AGENT_KEY_UNTRUSTED]: the server at ${srv.url} offers ${keys[0].fingerprint}, not ${wrong}: refusing to trust it`,
    );
    expect(existsSync(join(data, 'trusted-key.pub.json'))).toBe(false);
  }, 60_000);

  it('the CLI says where it looked for a token when it has none, and --help says it too', async () => {
    const home = mkdtempSync(join(tmpdir(), 'no-token-'));
    const env = { FLOTILLA_SERVER: srv.url, FLOTILLA_DATA: join(home, 'nowhere'), FLOTILLA_TOKEN: '', FLOTILLA_ADMIN_TOKEN: '' };
    const r = await runCli(['models', 'list'], env);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(
      'no operator token found: looked at --token-file FILE (never --token: other users could read it in `ps`); env FLOTILLA_TOKEN',
    );
    expect(r.stderr).toContain(`${join(home, 'nowhere', 'admin-token')} does not exist`);
    expect(r.stderr).toContain('set FLOTILLA_DATA=DIR or pass --token-file DIR/admin-token');
    // A --token-file that cannot be read is a usage error that names it; one that can is used.
    const unreadable = await runCli(['models', 'list', '--token-file', join(home, 'missing')], env);
    expect(unreadable.code).toBe(2);
    expect(unreadable.stderr).toContain(`error [TOKEN_FILE_UNREADABLE]: cannot read --token-file ${join(home, 'missing')}`);
    writeFileSync(join(home, 'token'), `${srv.token}\n`);
    const listed = await runCli(['models', 'list', '--json', '--token-file', join(home, 'token')], env);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual({ models: [] });
    const help = await runCli(['models', 'list', '--help'], env);
    expect(help.stdout).toContain('Operator token, first found wins:');
    expect(help.stdout).toContain('--token-file DIR/admin-token');
  }, 60_000);
});

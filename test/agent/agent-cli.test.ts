// `flotilla agent` as a daemon (run with tsx from edge-agent/bin): learns the broker from the server,
// installs the model, serves predictions and feedback on a local port, shuts down cleanly on SIGTERM.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePublicKeyFile } from '@flotilla/firmware-bundler';
import { HarnessServer } from './harness/harness-server.ts';
import { makeBundle } from './harness/test-bundles.ts';
import { TRUSTED } from './harness/test-keys.ts';
import { sampleRow } from './harness/test-models.ts';
import { REPO, type AgentLine } from './harness/agent-process.ts';
import { waitUntil } from './harness/wait.ts';

const BIN = join(REPO, 'edge-agent/bin/flotilla-agent.ts');

function run(args: string[]) {
  const proc = spawn(process.execPath, ['--import', 'tsx', BIN, ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: AgentLine[] = [];
  let stdout = '';
  let stderr = '';
  let partial = '';
  proc.stdout.on('data', (d) => {
    stdout += d;
    partial += d;
    const complete = partial.split('\n');
    partial = complete.pop()!;
    for (const l of complete) if (l.startsWith('{')) lines.push(JSON.parse(l));
  });
  proc.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => proc.on('exit', (c) => r(c)));
  return { proc, lines, exited, out: () => stdout, err: () => stderr };
}

let h: HarnessServer;
beforeAll(async () => {
  h = await HarnessServer.start();
});
afterAll(() => h.close());

describe('flotilla agent (CLI)', () => {
  it('runs as a daemon and serves predictions on a local port', async () => {
    const d = h.addDevice('cli-1');
    const v1 = await makeBundle({ version: '1.0.0', sequence: 1 });
    h.addBlobs(v1.blobs);
    await h.setDesired('cli-1', v1.ref, { windowSec: 1 });
    const keyFile = join(mkdtempSync(join(tmpdir(), 'cli-key-')), 'fleet.pub.json');
    writeFileSync(keyFile, encodePublicKeyFile(TRUSTED.publicKey));
    const data = mkdtempSync(join(tmpdir(), 'cli-data-'));
    const tokenFile = join(mkdtempSync(join(tmpdir(), 'cli-token-')), 'device-token');
    writeFileSync(tokenFile, `${d.token}\n`, { mode: 0o600 });
    const a = run([
      'agent',
      '--server',
      h.httpUrl,
      '--device-id',
      'cli-1',
      '--token-file',
      tokenFile,
      '--data',
      data,
      '--trusted-key',
      keyFile,
      '--serve',
      '0',
      '--window-sec',
      '1',
      '--json',
    ]);
    const ready = await waitUntil(() => a.lines.find((l) => l.type === 'ready'), `ready\n${a.err()}`, 60_000);
    expect(ready.serve).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await waitUntil(() => a.lines.some((l) => l.type === 'settled' && l.model?.version === '1.0.0'), 'installed', 30_000);
    expect(a.lines.filter((l) => l.type === 'state').map((l) => l.to)).toEqual([
      'downloading',
      'verifying',
      'staging',
      'activating',
      'probing',
      'committing',
      'idle',
    ]);

    const post = (path: string, body: unknown) =>
      fetch(`${ready.serve}${path}`, { method: 'POST', body: JSON.stringify(body) }).then(async (r) => ({
        status: r.status,
        body: (await r.json()) as any,
      }));
    const one = await post('/v1/predict', { input: sampleRow(16) });
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({
      model: { version: '1.0.0' },
      top1: expect.any(Number),
      confidence: expect.any(Number),
      predictionId: expect.any(String),
    });
    expect(one.body.outputs.y).toHaveLength(3);
    const batch = await post('/v1/predict', { inputs: [sampleRow(16, 1), sampleRow(16, 2)] });
    expect(batch.body.predictions).toHaveLength(2);
    // Feedback needs the token the agent keeps in its data folder (the ready line says where, never what).
    expect(ready.serveTokenFile).toBe(join(data, 'serve-token'));
    expect((await post('/v1/feedback', { predictionId: one.body.predictionId, label: 'dog' })).status).toBe(401);
    const token = readFileSync(ready.serveTokenFile, 'utf8').trim();
    const feedback = await fetch(`${ready.serve}/v1/feedback`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: JSON.stringify({ predictionId: one.body.predictionId, label: 'dog' }),
    });
    expect(await feedback.json()).toEqual({ matched: true });
    expect(await post('/v1/predict', { input: [1, 2, 3] })).toMatchObject({
      status: 400,
      body: { error: { code: 'AGENT_INPUT_INVALID' } },
    });
    expect(await post('/v1/predict', 'not json')).toMatchObject({ status: 400 });
    expect((await fetch(`${ready.serve}/nope`)).status).toBe(404);
    const status = (await (await fetch(`${ready.serve}/v1/status`)).json()) as any;
    expect(status).toMatchObject({ model: { version: '1.0.0' }, state: 'idle', online: true });
    await waitUntil(() => [...d.windows.values()].some((w) => w.feedback.labelled === 1), 'feedback counted in a window');

    a.proc.kill('SIGTERM');
    expect(await a.exited).toBe(0);
    expect(a.lines.some((l) => l.type === 'stopped')).toBe(true);
    // A clean stop says offline with the session of its own connection [WIRE-2.6].
    expect(d.presence.at(-1)).toEqual({ v: 1, online: false, session: d.presence.at(-2)!.session });
  }, 120_000);

  it('explains its flags and refuses bad ones', async () => {
    const help = run(['agent', '--help']);
    expect(await help.exited).toBe(0);
    for (const flag of [
      '--server',
      '--device-id',
      '--token-file',
      '--claim-file',
      '--data',
      '--mqtt-url',
      '--trusted-key',
      '--serve',
      '--blob-transport',
    ])
      expect(help.out()).toContain(flag);
    expect(help.out()).toContain('Secrets never go on the command line');
    // A secret on the command line is a usage error that says where it goes instead; nothing starts.
    for (const [flag, instead] of [
      ['--token', '--token-file FILE, or the environment: FLOTILLA_DEVICE_TOKEN'],
      ['--claim', '--claim-file FILE, or the environment: FLOTILLA_CLAIM'],
    ]) {
      const data = mkdtempSync(join(tmpdir(), 'cli-secret-'));
      const refused = run(['agent', '--device-id', 'x', '--data', data, flag!, 'sekret', '--trusted-key', 'ab'.repeat(32)]);
      expect(await refused.exited).toBe(2);
      expect(refused.err()).toContain(`error [SECRET_ON_COMMAND_LINE]: ${flag} is not accepted`);
      expect(refused.err()).toContain(`Use ${instead}.`);
      expect(readdirSync(data)).toEqual([]);
    }
    const missing = run(['agent', '--device-id', 'x']);
    expect(await missing.exited).not.toBe(0);
    const noKey = run(['agent', '--device-id', 'x', '--data', mkdtempSync(join(tmpdir(), 'cli-')), '--offline']);
    expect(await noKey.exited).not.toBe(0);
    expect(noKey.err()).toMatch(/AGENT_CONFIG_INVALID/);
  }, 60_000);
});

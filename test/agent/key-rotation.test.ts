// Bundle key rotation from the operator's side (SPEC §6.6, [WIRE-2.2.3]): a real server process, its embedded
// broker and a real agent provisioned with the server's first key. `flotilla keys rotate` makes a new key
// that signs every later bundle; the agent takes the trust update from its next desired state and installs a
// bundle signed by the new key alone. `flotilla keys retire` removes the first key: a bundle signed with it
// (made here from the secret key file in the server's data folder) is refused. Bad requests change nothing.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createEd25519Signer } from '@flotilla/firmware-bundler';
import { loadSecretKey } from '@flotilla/firmware-bundler/node';
import { createAgent, type Agent } from '@flotilla/edge-agent';
import { runCli, startServerProcess, type ServerHandle } from '../support/server-process.ts';
import { makeBundle } from './harness/test-bundles.ts';
import { waitUntil } from './harness/wait.ts';
import { deviceFor, serverBundle, serverKey } from './server-kit.ts';

let srv: ServerHandle;
let agent: Agent | undefined;
const agentDir = mkdtempSync(join(tmpdir(), 'agent-keys-'));

beforeAll(async () => {
  srv = await startServerProcess();
});
afterAll(async () => {
  await agent?.close();
  await srv?.dispose();
  rmSync(agentDir, { recursive: true, force: true });
});

const cli = async (...args: string[]) => {
  const r = await runCli(['keys', ...args, '--server', srv.url, '--json'], { FLOTILLA_TOKEN: srv.token });
  return { ...r, body: r.stdout.trim() ? JSON.parse(r.stdout) : null };
};

it('rotates the bundle key fleet-wide through a signed trust update, then retires the old key', async () => {
  const v1 = await serverBundle(srv, 'rotating-classifier');
  const device = await deviceFor(srv, v1.id);
  // A second device, offline through both updates: it starts only after the retire.
  const late = await deviceFor(srv, v1.id);
  const first = await serverKey(srv);
  const initial = (await srv.api('GET', '/api/v1/keys', undefined, '')).body;
  expect(initial).toMatchObject({ version: 0, threshold: 1, trust: null, keys: [{ publicKey: first, active: true }] });
  const firstId: string = initial.keys[0].keyId;

  const logs: string[] = [];
  agent = await createAgent({
    deviceId: device.id,
    token: device.token,
    server: srv.url,
    dataDir: agentDir,
    trustedKeys: [first],
    backoff: { minMs: 200, maxMs: 1000 },
    log: (l) => logs.push(l),
  });
  await waitUntil(() => agent!.model?.version === v1.version && agent!.state === 'idle', 'v1 installed', 30_000);

  // Rotate: trust version 1 = first key + new key, signed by both; every device gets it in a new revision.
  const rotated = await cli('rotate');
  expect(rotated.code, rotated.stderr).toBe(0);
  const newId: string = rotated.body.keyId;
  expect(rotated.body).toMatchObject({ version: 1, threshold: 1, active: newId, devices: 2 });
  expect(new Set(rotated.body.signedBy)).toEqual(new Set([firstId, newId]));
  await waitUntil(
    () => logs.some((l) => /trust: now version 1, 2 key\(s\), threshold 1/.test(l)),
    'the agent accepted trust version 1',
    15_000,
  );

  // The public list says which key signs now, with fingerprints, and the version.
  const listed = (await srv.api('GET', '/api/v1/keys', undefined, '')).body;
  expect(listed).toMatchObject({ version: 1, active: newId, trust: { version: 1 } });
  expect(listed.keys.map((k: { keyId: string; active: boolean }) => [k.keyId, k.active])).toEqual([
    [firstId, false],
    [newId, true],
  ]);
  expect(listed.keys[1].fingerprint).toMatch(/^SHA256:[0-9a-f]{64}$/);

  // A bundle made now is signed by the new key only, and the agent (which took the update) installs it.
  const v2 = await serverBundle(srv, 'rotating-classifier', { headSeed: 2 });
  const record = (await srv.api('GET', `/api/v1/bundles/${v2.id}`)).body;
  expect(record.keyId).toBe(newId);
  expect((await srv.api('PUT', `/api/v1/devices/${device.id}/desired`, { bundle: v2.id })).status).toBe(200);
  await waitUntil(() => agent!.model?.version === v2.version && agent!.state === 'idle', 'v2 (new key only) installed', 30_000);

  // Bad requests: unknown key 404, the active signer 409, a threshold above the key count 400, a non-admin 403.
  const unknown = await cli('retire', '0123456789abcdef');
  expect(unknown.code).toBe(5);
  expect(unknown.body.error.code).toBe('KEY_NOT_FOUND');
  const active = await srv.api('POST', `/api/v1/keys/${newId}/retire`, {});
  expect(active.status).toBe(409);
  expect(active.body.error).toMatchObject({ code: 'KEY_ACTIVE', message: expect.stringMatching(/rotate first/) });
  expect((await srv.api('POST', '/api/v1/keys/rotate', { threshold: 9 })).body.error.code).toBe('KEY_THRESHOLD_INVALID');
  expect((await cli('rotate', '--threshold', 'two')).code).toBe(2);
  const operator = (await srv.api('POST', '/api/v1/tokens', { name: 'ops', role: 'operator' })).body.token;
  const forbidden = await srv.api('POST', `/api/v1/keys/${firstId}/retire`, {}, operator);
  expect(forbidden.status).toBe(403);
  expect((await srv.api('POST', '/api/v1/keys/rotate', {}, '')).status).toBe(401);
  expect((await srv.api('GET', '/api/v1/keys', undefined, '')).body.version).toBe(1);

  // Retire the first key: version 2 without it.
  const retired = await cli('retire', firstId);
  expect(retired.code, retired.stderr).toBe(0);
  // The remaining key signs; the retired one adds its signature for devices that missed version 1.
  expect(retired.body).toMatchObject({ version: 2, keyId: firstId, active: newId, signedBy: [newId, firstId], devices: 2 });
  await waitUntil(() => logs.some((l) => /trust: now version 2, 1 key\(s\)/.test(l)), 'the agent accepted trust version 2', 15_000);

  // The late device, provisioned with the first key only, jumps from version 0 to 2 (the retired key's
  // catch-up signature) and installs the new-key bundle.
  expect((await srv.api('PUT', `/api/v1/devices/${late.id}/desired`, { bundle: v2.id })).status).toBe(200);
  const lateLogs: string[] = [];
  const lateDir = mkdtempSync(join(tmpdir(), 'agent-keys-late-'));
  const lateAgent = await createAgent({
    deviceId: late.id,
    token: late.token,
    server: srv.url,
    dataDir: lateDir,
    trustedKeys: [first],
    backoff: { minMs: 200, maxMs: 1000 },
    log: (l) => lateLogs.push(l),
  });
  try {
    await waitUntil(() => lateAgent.model?.version === v2.version && lateAgent.state === 'idle', 'the late device installed v2', 30_000);
    expect(lateLogs.some((l) => /trust: now version 2, 1 key\(s\)/.test(l))).toBe(true);
  } finally {
    await lateAgent.close();
    rmSync(lateDir, { recursive: true, force: true });
  }

  // A bundle signed with the retired key (its secret file is still in the data folder) is refused now,
  // while one signed with the active key's file is taken: the refusal is about the key, not the bundle.
  const keysDir = join(srv.dataDir, 'keys');
  const oldSecret = await loadSecretKey(join(keysDir, 'signing.key'));
  expect(oldSecret.keyId).toBe(firstId);
  const byOld = await makeBundle({ version: '9.0.0', sequence: 1000, signer: createEd25519Signer(oldSecret.secretKey) });
  const refused = await agent.install(byOld.bytes);
  expect(refused.ok).toBe(false);
  expect(refused.reason).toMatch(/^BUNDLE_KEY_UNTRUSTED/);
  expect(agent.model?.version).toBe(v2.version);
  const newFile = readdirSync(keysDir).find((f) => f === `signing-${newId}.key`)!;
  const byNew = await makeBundle({
    version: '9.0.1',
    sequence: 1001,
    signer: createEd25519Signer((await loadSecretKey(join(keysDir, newFile))).secretKey),
  });
  expect(await agent.install(byNew.bytes)).toMatchObject({ ok: true });
  await agent.close();
  agent = undefined;

  const last = (await srv.api('GET', '/api/v1/keys', undefined, '')).body;
  expect(last).toMatchObject({ version: 2, active: newId, keys: [{ keyId: newId, active: true }] });
  expect(last.keys).toHaveLength(1);
}, 120_000);

// POST /enroll against a real server process: every refusal a hostile or broken device can provoke
// (bad claim, claim on another route, expired or revoked claim, exhausted quota, wrong, stale or replayed
// proof, serial outside the pattern, another key for a known serial, oversized or extra fields), each
// with its code and nothing stored, plus the idempotent re-enrollment and the operator's CLI.
import { generateKeyPairSync, sign } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrollProofMessage } from '@flotilla/firmware-bundler/wire';
import { runCli, startServerProcess, type ServerHandle } from '../support/server-process.ts';

let srv: ServerHandle;
beforeAll(async () => {
  srv = await startServerProcess();
}, 120_000);
afterAll(async () => srv?.dispose());

/** A device key pair, and a signed enrollment body for `serial` under the claim's enrollment id. */
function device() {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(12).toString('base64');
  const body = (claim: string, serial: string, timestamp = Date.now(), key = privateKey) => {
    const enrollmentId = /^fec_(enr-[0-9a-f]{8})\./.exec(claim)?.[1] ?? 'enr-00000000';
    const proof = sign(null, enrollProofMessage(enrollmentId, serial, raw, timestamp), key).toString('base64');
    return { v: 1, serial, publicKey: raw, timestamp, proof };
  };
  return { raw, privateKey, body };
}

async function enroll(claim: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${srv.url}/api/v1/enroll`, {
    method: 'POST',
    headers: { authorization: `Claim ${claim}`, 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

async function newClaim(over: Record<string, unknown> = {}): Promise<string> {
  const r = await srv.api('POST', '/api/v1/enrollments', {
    name: `e-${Math.random().toString(36).slice(2, 8)}`,
    quota: 5,
    expiresInSec: 3600,
    serialPattern: 'SN-*',
    ...over,
  });
  expect(r.status).toBe(201);
  return r.body.claim;
}

describe('POST /enroll', () => {
  it('enrolls, is idempotent for the same key, and refuses another key unless allowed', async () => {
    const claim = await newClaim({ tags: ['sensors'] });
    const d = device();
    const first = await enroll(claim, d.body(claim, 'SN-1'));
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ v: 1, deviceId: 'SN-1', generation: 1, reenrolled: false, token: expect.stringMatching(/^fdt_/) });
    // The token works where device tokens work.
    const conn = await fetch(`${srv.url}/api/v1/devices/SN-1/connection`, {
      headers: { authorization: `Bearer SN-1:${first.body.token}` },
    });
    expect(conn.status).toBe(200);
    const again = await enroll(claim, d.body(claim, 'SN-1', Date.now() + 1));
    expect(again.body).toMatchObject({ deviceId: 'SN-1', generation: 2, reenrolled: true });
    // The first token was replaced, not kept.
    expect(
      (await fetch(`${srv.url}/api/v1/devices/SN-1/connection`, { headers: { authorization: `Bearer SN-1:${first.body.token}` } })).status,
    ).toBe(401);
    const other = device();
    expect((await enroll(claim, other.body(claim, 'SN-1'))).body.error.code).toBe('ENROLLMENT_KEY_MISMATCH');
    const lenient = await newClaim({ allowReenroll: true });
    expect((await enroll(lenient, other.body(lenient, 'SN-1', Date.now() + 2))).body).toMatchObject({ reenrolled: true, generation: 3 });
    expect((await srv.api('GET', '/api/v1/enrollments')).body.enrollments.length).toBeGreaterThanOrEqual(2);
  });

  it('refuses bad claims, and the claim on any other route', async () => {
    const claim = await newClaim();
    const d = device();
    expect((await enroll('fec_enr-00000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', d.body(claim, 'SN-2'))).body.error.code).toBe(
      'ENROLLMENT_CLAIM_INVALID',
    );
    expect((await enroll(`${claim.slice(0, -1)}A`, d.body(claim, 'SN-2'))).status).toBe(401);
    const none = await fetch(`${srv.url}/api/v1/enroll`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(d.body(claim, 'SN-2')),
    });
    expect(none.status).toBe(401);
    for (const [method, path] of [
      ['GET', '/api/v1/devices'],
      ['GET', '/api/v1/enrollments'],
      ['POST', '/api/v1/devices/rotate'],
    ] as const) {
      expect((await srv.api(method, path, method === 'POST' ? { all: true } : undefined, claim)).status, `${method} ${path}`).toBe(401);
    }
    const asClaim = await fetch(`${srv.url}/api/v1/devices/SN-2/connection`, { headers: { authorization: `Bearer SN-2:${claim}` } });
    expect(asClaim.status).toBe(401);
  });

  it('refuses expired and revoked claims and an exhausted quota', async () => {
    const short = await newClaim({ expiresInSec: 1 });
    await new Promise((r) => setTimeout(r, 1100));
    expect((await enroll(short, device().body(short, 'SN-3'))).body.error.code).toBe('ENROLLMENT_EXPIRED');
    const claim = await newClaim({ quota: 2 });
    const results = await Promise.all(['SN-4', 'SN-5', 'SN-6', 'SN-7'].map((s) => enroll(claim, device().body(claim, s))));
    expect(results.filter((r) => r.status === 201)).toHaveLength(2);
    expect(results.filter((r) => r.body.error?.code === 'ENROLLMENT_QUOTA_EXHAUSTED')).toHaveLength(2);
    const id = /^fec_(enr-[0-9a-f]{8})\./.exec(claim)![1]!;
    expect((await srv.api('POST', `/api/v1/enrollments/${id}/revoke`)).body.revokedAt).not.toBeNull();
    expect((await enroll(claim, device().body(claim, 'SN-8'))).body.error.code).toBe('ENROLLMENT_REVOKED');
  });

  it('refuses wrong, stale and replayed proofs, serials outside the pattern, and malformed bodies', async () => {
    const claim = await newClaim();
    const d = device();
    const stranger = device();
    expect((await enroll(claim, d.body(claim, 'SN-9', Date.now(), stranger.privateKey))).body.error.code).toBe('ENROLLMENT_PROOF_INVALID');
    expect((await enroll(claim, { ...d.body(claim, 'SN-9'), serial: 'SN-10' })).body.error.code).toBe('ENROLLMENT_PROOF_INVALID');
    expect((await enroll(claim, d.body(claim, 'SN-9', Date.now() - 10 * 60_000))).body.error.code).toBe('ENROLLMENT_PROOF_STALE');
    expect((await enroll(claim, d.body(claim, 'CAR-1'))).body.error.code).toBe('ENROLLMENT_SERIAL_REFUSED');
    const body = d.body(claim, 'SN-9');
    expect((await enroll(claim, body)).status).toBe(201);
    expect((await enroll(claim, body)).body.error.code).toBe('ENROLLMENT_REPLAYED');
    // Bounded fields: a long serial, an extra field, a key that is not 32 bytes, a body over the limit.
    expect((await enroll(claim, { ...body, serial: `SN-${'x'.repeat(100)}` })).body.error.code).toBe('VALIDATION_FAILED');
    expect((await enroll(claim, { ...body, extra: 1 })).body.error.code).toBe('VALIDATION_FAILED');
    expect((await enroll(claim, { ...body, publicKey: 'AAAA' })).body.error.code).toBe('VALIDATION_FAILED');
    expect((await enroll(claim, JSON.stringify({ ...body, pad: 'x'.repeat(10_000) }))).status).toBe(413);
    expect((await enroll(claim, '{not json')).status).toBe(400);
    // Nothing of the refused attempts was stored.
    const e = await srv.api('GET', `/api/v1/enrollments/${/^fec_(enr-[0-9a-f]{8})\./.exec(claim)![1]}`);
    expect(e.body.used).toBe(1);
    expect((await srv.api('GET', '/api/v1/devices/SN-10')).status).toBe(404);
  });
});

describe('flotilla enrollments and devices rotate', () => {
  it('creates, lists, shows and revokes enrollments, and rotates device tokens, with --json and exit codes', async () => {
    const env = { FLOTILLA_SERVER: srv.url, FLOTILLA_TOKEN: srv.token };
    const made = await runCli(
      [
        'enrollments',
        'create',
        '--name',
        'factory-cli',
        '--quota',
        '10',
        '--expires',
        '30d',
        '--tag',
        'cars',
        '--serial-pattern',
        'CLI-*',
        '--json',
      ],
      env,
    );
    expect(made.code, made.stderr).toBe(0);
    const { claim, enrollment } = JSON.parse(made.stdout);
    expect(enrollment).toMatchObject({ name: 'factory-cli', quota: 10, template: { tags: ['cars'], serialPattern: 'CLI-*' } });
    expect((await enroll(claim, device().body(claim, 'CLI-1'))).status).toBe(201);
    const list = await runCli(['enrollments', 'list', '--json'], env);
    expect(JSON.parse(list.stdout).enrollments.some((e: { name: string; used: number }) => e.name === 'factory-cli' && e.used === 1)).toBe(
      true,
    );
    expect(JSON.parse((await runCli(['enrollments', 'show', 'factory-cli', '--json'], env)).stdout)).toMatchObject({ used: 1 });
    const rotated = await runCli(['devices', 'rotate', '--device', 'CLI-1', '--overlap', '1h', '--json'], env);
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(JSON.parse(rotated.stdout)).toMatchObject({ rotated: 1 });
    expect((await runCli(['devices', 'rotate', '--json'], env)).code).toBe(2);
    expect(JSON.parse((await runCli(['enrollments', 'revoke', 'factory-cli', '--json'], env)).stdout).revokedAt).not.toBeNull();
    expect((await runCli(['enrollments', 'show', 'nope', '--json'], env)).code).toBe(5);
    expect((await runCli(['enrollments', 'create', '--name', 'bad', '--quota', '0', '--expires', '1d', '--json'], env)).code).toBe(2);
  });
});

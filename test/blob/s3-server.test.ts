// `flotilla server --blobs s3://...` against an S3-compatible server: what one process writes,
// another process with an empty local cache serves (the multi-process deployment's blob path).
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli, startServerProcess } from '../support/server-process.ts';
import { startS3, type TestS3 } from '../support/s3-server.ts';

let s3: TestS3;
const meta = mkdtempSync(join(tmpdir(), 'flotilla-s3-meta-'));
beforeAll(async () => {
  s3 = await startS3();
});
afterAll(async () => {
  await s3?.stop();
  rmSync(meta, { recursive: true, force: true });
});

const objects = () =>
  readdirSync(s3.directory, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('._S3rver_object'));

it('keeps blobs in S3: a second server with an empty data folder serves what the first stored', async () => {
  const args = ['--store', `sqlite:${join(meta, 'flotilla.db')}`, '--blobs', s3.url('fleet/')];
  const token = 'flt_test_admin_s3_blobs';
  const a = await startServerProcess({ args, env: s3.env, token });
  expect(a.info.blobs).toBe('s3');
  const csv = 'a,b,species\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n';
  const up = await a.api('POST', '/api/v1/datasets?name=iris&label=species', csv);
  expect(up.status, JSON.stringify(up.body)).toBe(201);
  const digest: string = up.body.dataset.digest;
  expect(objects().some((f) => f.includes(digest))).toBe(true);
  await a.dispose();

  const b = await startServerProcess({ args, env: s3.env, token });
  try {
    expect(
      readdirSync(join(b.dataDir, 'blob-cache'), { recursive: true })
        .map(String)
        .some((f) => f.includes(digest)),
    ).toBe(false);
    const res = await fetch(`${b.url}/api/v1/blobs/${digest}`, { headers: { authorization: `Bearer ${token}`, range: 'bytes=0-3' } });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toMatch(/^bytes 0-3\/\d+$/);
    expect((await res.arrayBuffer()).byteLength).toBe(4);
    const missing = await b.api('GET', `/api/v1/blobs/${'0'.repeat(64)}`);
    expect(missing.status).toBe(404);
  } finally {
    await b.dispose();
  }
}, 120_000);

it('refuses to start with an s3:// blob store and no credentials, saying which variables to set', async () => {
  const data = mkdtempSync(join(tmpdir(), 'flotilla-s3-nocreds-'));
  const r = await runCli(['server', '--data', data, '--port', '0', '--mqtt-port', '0', '--blobs', s3.url('x/')], {
    AWS_ACCESS_KEY_ID: '',
    AWS_SECRET_ACCESS_KEY: '',
  });
  rmSync(data, { recursive: true, force: true });
  expect(r.code).toBe(1);
  expect(r.stderr + r.stdout).toMatch(/AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
}, 60_000);

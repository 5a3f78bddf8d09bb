// CSV import over HTTP and the CLI against a real server process: clean data, malformed files,
// idempotent versions, and failed imports that leave nothing behind.
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startServerProcess, type ServerHandle } from '../support/server-process.ts';

let srv: ServerHandle;
beforeAll(async () => {
  srv = await startServerProcess();
});
afterAll(async () => srv?.dispose());

const blobCount = () => readdirSync(join(srv.dataDir, 'blobs'), { recursive: true }).filter((f) => /[0-9a-f]{64}$/.test(String(f))).length;
const upload = (csv: string, name = 'iris', label = 'species') => srv.api('POST', `/api/v1/datasets?name=${name}&label=${label}`, csv);

const GOOD = 'a,b,species\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n';

describe('dataset import over HTTP', () => {
  it('imports a clean CSV with a quality report, and the same content twice is the same version', async () => {
    const first = await upload(GOOD);
    expect(first.status).toBe(201);
    expect(first.body.dataset.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(first.body.dataset.rows).toBe(4);
    expect(first.body.dataset.classes).toEqual(['x', 'y']);
    expect(first.body.report.rowsRead).toBe(4);
    expect(first.body.report.rowsKept).toBe(4);
    expect(first.body.existed).toBe(false);
    const again = await upload(GOOD.replace(/\n/g, '\r\n'));
    expect(again.status).toBe(201);
    expect(again.body.dataset.digest).toBe(first.body.dataset.digest);
    expect(again.body.existed).toBe(true);
    const got = await srv.api('GET', `/api/v1/datasets/iris`);
    expect(got.body.digest).toBe(first.body.dataset.digest);
  });

  it('drops duplicates and reports bad rows with their line numbers', async () => {
    const csv = `a,b,species\n${Array.from({ length: 300 }, (_, i) => `${i},${i * 2},${i % 2 ? 'x' : 'y'}`).join('\n')}\n1,2\n7,oops,x\n0,0,y\n`;
    const r = await upload(csv, 'messy');
    expect(r.status).toBe(201);
    expect(r.body.report.duplicatesDropped).toBe(1);
    const lines = r.body.report.badRows.map((b: { line: number }) => b.line);
    expect(lines).toEqual([302, 303]);
    expect(r.body.report.rowsKept).toBe(300);
  });

  it.each([
    ['empty file', '', 'CSV_EMPTY'],
    ['header only', 'a,b,species\n', 'CSV_NO_ROWS'],
    ['label column missing', 'a,b,c\n1,2,3\n', 'CSV_LABEL_MISSING'],
    ['ragged rows over the bad-row limit', 'a,b,species\n1,2\n3\n4,5,6,7\n1,2,x\n', 'CSV_TOO_MANY_BAD_ROWS'],
    ['non-numeric cells over the bad-row limit', 'a,b,species\nx,y,z\nq,r,s\n1,2,x\n', 'CSV_TOO_MANY_BAD_ROWS'],
  ])('refuses %s with %s and leaves nothing behind', async (_what, csv, code) => {
    const before = blobCount();
    const r = await srv.api('POST', `/api/v1/datasets?name=bad&label=species&maxBadRows=1`, csv);
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe(code);
    expect(r.body.error.message.length).toBeGreaterThan(10);
    expect(blobCount()).toBe(before);
    expect((await srv.api('GET', '/api/v1/datasets/bad')).status).toBe(404);
  });

  it('streams a large file (about 7 MB) through the HTTP import', async () => {
    const rows = 150_000;
    const parts = ['f1,f2,f3,f4,f5,f6,f7,f8,label'];
    for (let i = 0; i < rows; i++)
      parts.push(`${i},${(i * 7) % 1000},${(i * 13) % 997}.5,${i % 3},${(i * 31) % 101},${i / 7},${(i * 3) % 17},${i % 1000},${i % 5}`);
    const csv = `${parts.join('\n')}\n`;
    expect(csv.length).toBeGreaterThan(6_000_000);
    const r = await upload(csv, 'large', 'label');
    expect(r.status).toBe(201);
    expect(r.body.dataset.rows).toBe(rows);
    expect(r.body.dataset.featureShape).toEqual([8]);
  });

  it('needs an operator token to import, and a valid one to read', async () => {
    expect((await srv.api('GET', '/api/v1/datasets', undefined, 'flt_wrong')).status).toBe(401);
    expect((await srv.api('GET', '/api/v1/datasets', undefined, '')).body.error.code).toBe('UNAUTHENTICATED');
    const viewer = await srv.api('POST', '/api/v1/tokens', { name: 'v', role: 'viewer' });
    expect(viewer.status).toBe(201);
    const r = await srv.api('POST', '/api/v1/datasets?name=v&label=species', GOOD, viewer.body.token);
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe('FORBIDDEN');
    expect((await srv.api('GET', '/api/v1/datasets', undefined, viewer.body.token)).status).toBe(200);
  });

  it('lists the built-in mnist dataset with 10,000 rows', async () => {
    const r = await srv.api('GET', '/api/v1/datasets/mnist');
    expect(r.status).toBe(200);
    expect(r.body.rows).toBe(10_000);
    expect(r.body.featureShape).toEqual([28, 28, 1]);
  });
});

describe('flotilla dataset import (CLI)', () => {
  it('imports a file with --json and exits 0; a missing label column exits 6 with the code', async () => {
    const file = join(srv.dataDir, 'cli.csv');
    writeFileSync(file, 'x1,x2,y\n0.5,1.5,a\n2.5,3.5,b\n');
    const env = { FLOTILLA_TOKEN: srv.token };
    const ok = await runCli(['dataset', 'import', file, '--name', 'cli', '--label', 'y', '--server', srv.url, '--json'], env);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).dataset.rows).toBe(2);
    const bad = await runCli(['dataset', 'import', file, '--name', 'cli', '--label', 'nope', '--server', srv.url, '--json'], env);
    expect(bad.code).toBe(6);
    expect(JSON.parse(bad.stdout).error.code).toBe('CSV_LABEL_MISSING');
    const unreachable = await runCli(['dataset', 'list', '--server', 'http://127.0.0.1:1', '--json'], env);
    expect(unreachable.code).toBe(3);
  });
});

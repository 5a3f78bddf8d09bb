// The readiness storage check against real folders: a healthy one, one below the free-space floor
// (a full disk, as far as the server is concerned), and a path that cannot be written.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { checkStorage, minFreeBytes } from './storage-check.ts';

const dir = mkdtempSync(join(tmpdir(), 'flotilla-storage-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('is ok on a writable folder with room, and leaves no probe behind', () => {
  const r = checkStorage(dir, 0);
  expect(r.ok).toBe(true);
  expect(readdirSync(dir)).toEqual([]);
});

it('reports a folder below the free-space floor as full', () => {
  const r = checkStorage(dir, Number.MAX_SAFE_INTEGER);
  expect(r).toMatchObject({ ok: false, code: 'STORAGE_FULL' });
});

it('reports a path that cannot take files as unwritable', () => {
  const file = join(dir, 'not-a-folder');
  writeFileSync(file, 'x');
  expect(checkStorage(join(file, 'sub'), 0)).toMatchObject({ ok: false, code: 'STORAGE_UNWRITABLE' });
  rmSync(file);
});

it('reads the floor from the environment, defaulting to 64 MiB', () => {
  expect(minFreeBytes(undefined)).toBe(64 * 1024 * 1024);
  expect(minFreeBytes('1000')).toBe(1000);
  expect(minFreeBytes('-1')).toBe(64 * 1024 * 1024);
});

// FileStorage: the storage contract, plus what only files have (temp files a crash left behind).
import { mkdtempSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { FileStorage } from './file-storage.ts';
import { storageContract } from './storage-contract.ts';

storageContract('FileStorage', () => FileStorage.open(mkdtempSync(join(tmpdir(), 'fs-contract-'))));

it('removes temp files left by a crash mid-write and never lists them', async () => {
  const root = mkdtempSync(join(tmpdir(), 'fs-temp-'));
  mkdirSync(join(root, 'state'));
  writeFileSync(join(root, 'state', 'update.json~tmpabc'), 'half');
  writeFileSync(join(root, 'state', 'update.json'), '{"ok":1}');
  const s = await FileStorage.open(root);
  expect(readdirSync(join(root, 'state'))).toEqual(['update.json']);
  expect(await s.list('state/')).toEqual(['state/update.json']);
  expect(await s.freeBytes()).toBeGreaterThan(0);
});

// writeFileAtomic: the new contents or the old, never a torn file, and no temp file of its own left behind.
import { afterAll, describe, expect, it } from 'vitest';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-write.ts';

const root = mkdtempSync(join(tmpdir(), 'flotilla-atomic-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let made = 0;
/** An empty folder of its own for each test. */
function folder(): string {
  const dir = join(root, String(made++));
  mkdirSync(dir);
  return dir;
}

describe('writeFileAtomic', () => {
  it('creates and replaces a file through the temp name, owner-only by default, and leaves no temp file', async () => {
    const dir = folder();
    const target = join(dir, 'state.json');
    await writeFileAtomic(target, '{"v":1}', { temp: `${target}.tmp` });
    expect(readFileSync(target, 'utf8')).toBe('{"v":1}');
    expect(statSync(target).mode & 0o777).toBe(0o600);
    await writeFileAtomic(target, new Uint8Array([1, 2, 3]), { temp: `${target}.tmp`, mode: 0o644 });
    expect([...readFileSync(target)]).toEqual([1, 2, 3]);
    expect(readdirSync(dir)).toEqual(['state.json']);
  });

  it('truncates a temp file a crash left behind, unless told to be exclusive', async () => {
    const target = join(folder(), 'trust.json');
    writeFileSync(`${target}.tmp`, 'half a docu');
    await writeFileAtomic(target, 'whole', { temp: `${target}.tmp` });
    expect(readFileSync(target, 'utf8')).toBe('whole');
    expect(existsSync(`${target}.tmp`)).toBe(false);
  });

  it('exclusive: refuses a link planted at the temp name without following it or removing it', async () => {
    const dir = folder();
    const target = join(dir, 'model.onnx');
    const outside = join(dir, 'outside.txt');
    writeFileSync(outside, 'untouched');
    symlinkSync(outside, `${target}.part`);
    await expect(writeFileAtomic(target, 'payload', { temp: `${target}.part`, exclusive: true })).rejects.toMatchObject({ code: 'EEXIST' });
    expect(readFileSync(outside, 'utf8')).toBe('untouched');
    expect(lstatSync(`${target}.part`).isSymbolicLink()).toBe(true);
    expect(existsSync(target)).toBe(false);
  });

  it('a failed rename keeps the old file and removes its temp file', async () => {
    const dir = folder();
    const target = join(dir, 'taken');
    mkdirSync(target);
    writeFileSync(join(target, 'inside'), 'x');
    await expect(writeFileAtomic(target, 'new', { temp: join(dir, 'taken.tmp') })).rejects.toThrow();
    expect(statSync(target).isDirectory()).toBe(true);
    expect(existsSync(join(dir, 'taken.tmp'))).toBe(false);
  });
});

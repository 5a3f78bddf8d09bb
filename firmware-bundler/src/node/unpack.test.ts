// Unpacking: byte-identical files, nothing written for a bad bundle, no escape through symlinks (SPEC §7.3).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unpackBundle } from './unpack.ts';
import { writeFilesUnder } from './safe-write.ts';
import { makeTestBundle, testKeyPair, testPackInput, TEST_NOW } from '../testing/bundle-fixtures.ts';

const trusted = [testKeyPair('primary').publicKey];
const packed = await makeTestBundle();
let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'flotilla-unpack-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('unpackBundle [SPEC §7.3]', () => {
  it('writes byte-identical files (round trip) and reports them', async () => {
    const out = join(dir, 'out');
    const result = await unpackBundle(packed.bytes, out, { trusted, now: TEST_NOW });
    expect(result.signatureVerified).toBe(true);
    for (const f of testPackInput().files) expect(Buffer.compare(readFileSync(join(out, f.path)), Buffer.from(f.bytes))).toBe(0);
    expect(readdirSync(out, { recursive: true }).map(String).sort()).toEqual(['assets', 'assets/extra.bin', 'model.onnx']);
  });

  it('writes nothing at all for a bundle that fails verification', async () => {
    const out = join(dir, 'out');
    await expect(unpackBundle(packed.bytes, out, { trusted, now: Date.parse('2040-01-01T00:00:00Z') })).rejects.toMatchObject({
      code: 'BUNDLE_EXPIRED',
    });
    expect(existsSync(out)).toBe(false);
  });

  it('needs trusted keys unless allowUnsigned is set', async () => {
    await expect(unpackBundle(packed.bytes, join(dir, 'out'), {})).rejects.toMatchObject({ code: 'BUNDLE_INPUT_INVALID' });
    const result = await unpackBundle(packed.bytes, join(dir, 'out'), { allowUnsigned: true });
    expect(result.signatureVerified).toBe(false);
  });

  it('replaces an existing regular file', async () => {
    const out = join(dir, 'out');
    mkdirSync(out);
    writeFileSync(join(out, 'model.onnx'), 'old');
    await unpackBundle(packed.bytes, out, { trusted, now: TEST_NOW });
    expect(readFileSync(join(out, 'model.onnx')).length).toBe(testPackInput().files[0]!.bytes.length);
  });
});

describe('writeFilesUnder [SPEC §7.3]', () => {
  it('refuses a planted folder symlink pointing outside the target', async () => {
    const out = join(dir, 'out');
    const outside = join(dir, 'outside');
    mkdirSync(out);
    mkdirSync(outside);
    symlinkSync(outside, join(out, 'assets'));
    await expect(writeFilesUnder(out, [['assets/x.bin', Uint8Array.of(1)]])).rejects.toMatchObject({ code: 'BUNDLE_PATH_INVALID' });
    expect(readdirSync(outside)).toEqual([]);
  });

  it('refuses a planted file symlink instead of writing through it', async () => {
    const out = join(dir, 'out');
    const victim = join(dir, 'victim.txt');
    writeFileSync(victim, 'keep');
    mkdirSync(out);
    symlinkSync(victim, join(out, 'model.onnx'));
    await expect(writeFilesUnder(out, [['model.onnx', Uint8Array.of(1)]])).rejects.toMatchObject({ code: 'BUNDLE_PATH_INVALID' });
    expect(readFileSync(victim, 'utf8')).toBe('keep');
  });

  it('re-checks paths itself, whatever the caller checked', async () => {
    for (const bad of ['../escape', '/abs', 'a/../../x']) {
      await expect(writeFilesUnder(join(dir, 'out'), [[bad, Uint8Array.of(1)]])).rejects.toMatchObject({ code: 'BUNDLE_PATH_INVALID' });
    }
    expect(readdirSync(dir)).toEqual([]);
  });

  it('follows a symlinked target root itself (the caller chose it)', async () => {
    const real = join(dir, 'real');
    mkdirSync(real);
    symlinkSync(real, join(dir, 'link'));
    await writeFilesUnder(join(dir, 'link'), [['a/b.bin', Uint8Array.of(9)]]);
    expect(readFileSync(join(real, 'a', 'b.bin'))).toEqual(Buffer.from([9]));
  });
});

// The CLI as a child process: exit codes 0/1/2, one JSON object under --json, every subcommand end to end (SPEC §15).
import { afterAll, describe, expect, it, vi } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { registerBundleCommands } from './index.ts';
import { syntheticModel } from '../testing/synthetic-model.ts';

const BIN = fileURLToPath(new URL('../../bin/flotilla-bundle.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'flotilla-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const at = (name: string) => join(dir, name);

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string; json: any }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      let json: unknown;
      try {
        json = JSON.parse(stdout);
      } catch {
        json = undefined;
      }
      resolve({ code: code ?? -1, stdout, stderr, json });
    });
  });
}

describe('flotilla bundle CLI [SPEC §15]', () => {
  it('runs keygen → pack → verify → inspect → unpack → diff → export-c', async () => {
    const keygen = await cli('keygen', '--out', at('keys'), '--json');
    expect(keygen.code).toBe(0);
    expect(keygen.json).toMatchObject({ ok: true, keyId: expect.stringMatching(/^[0-9a-f]{16}$/) });
    expect((await cli('keygen', '--out', at('keys'), '--json')).json.error.code).toBe('BUNDLE_OUTPUT_EXISTS');

    writeFileSync(at('v1.bin'), syntheticModel([1, 2, 3, 4]));
    writeFileSync(at('v2.bin'), syntheticModel([1, 2, 3, 40]));
    writeFileSync(at('labels.txt'), 'a\nb\n');
    writeFileSync(
      at('extra.json'),
      JSON.stringify({
        labels: ['a', 'b'],
        signature: {
          inputs: [{ name: 'x', dtype: 'float32', shape: [null, 4] }],
          outputs: [{ name: 'y', dtype: 'float32', shape: [null, 2] }],
        },
        quantization: { scheme: 'int8-qdq', perChannel: true, metrics: { top1Agreement: 0.99 } },
        referenceProfile: { features: [{ name: 'x0', input: 'x', index: 0, edges: [0, 1, 2], frequencies: [0.5, 0.5] }] },
        expiresIn: '30d',
      }),
    );
    const key = at('keys/signing.key');
    const common = [
      '--name',
      'synthetic',
      '--key',
      key,
      '--file',
      `labels.txt=${at('labels.txt')}`,
      '--manifest-json',
      at('extra.json'),
      '--min-agent-version',
      '1.0.0',
      '--json',
    ];
    const p1 = await cli('pack', '--onnx', at('v1.bin'), '--version', '1.0.0', '--sequence', '1', '--out', at('v1.fbundle'), ...common);
    expect(p1.code, p1.stderr).toBe(0);
    expect(p1.json).toMatchObject({
      ok: true,
      model: { name: 'synthetic', version: '1.0.0', sequence: 1 },
      files: [{ path: 'model.onnx' }, { path: 'labels.txt' }],
    });
    const p2 = await cli('pack', '--onnx', at('v2.bin'), '--version', '1.1.0', '--sequence', '2', '--out', at('v2.fbundle'), ...common);
    expect(p2.code).toBe(0);

    const ok = await cli(
      'verify',
      at('v2.fbundle'),
      '--trust',
      at('keys/signing.pub'),
      '--installed-sequence',
      '1',
      '--agent-version',
      '1.2.0',
      '--json',
    );
    expect(ok.code).toBe(0);
    expect(ok.json).toMatchObject({ ok: true, valid: true, manifestDigest: p2.json.manifestDigest });
    const human = await cli('verify', at('v2.fbundle'), '--trust', at('keys/signing.pub'));
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^valid: synthetic 1\.1\.0/);

    const info = await cli('inspect', at('v1.fbundle'), '--json');
    expect(info.json).toMatchObject({
      ok: true,
      signatureVerified: false,
      manifest: { labels: ['a', 'b'], quantization: { scheme: 'int8-qdq' } },
    });
    expect(Date.parse(info.json.manifest.expiresAt) - Date.parse(info.json.manifest.createdAt)).toBe(30 * 86400 * 1000);

    const unpacked = await cli('unpack', at('v1.fbundle'), '--out', at('out'), '--trust', at('keys/signing.pub'), '--json');
    expect(unpacked.code).toBe(0);
    expect(readFileSync(at('out/model.onnx')).equals(readFileSync(at('v1.bin')))).toBe(true);
    expect(readFileSync(at('out/labels.txt'), 'utf8')).toBe('a\nb\n');

    const diff = await cli('diff', at('v1.fbundle'), at('v2.fbundle'), '--json');
    expect(diff.code).toBe(0);
    expect(diff.json).toMatchObject({
      ok: true,
      totalBytes: expect.any(Number),
      bytesToFetch: expect.any(Number),
      chunksReused: expect.any(Number),
      chunksToFetch: expect.any(Number),
    });
    expect(diff.json.shareToFetch).toBeLessThanOrEqual(0.35);
    expect(diff.json.shareOfBundle).toBeLessThanOrEqual(0.35);

    const exported = await cli(
      'export-c',
      at('v1.fbundle'),
      '--out',
      at('c'),
      '--symbol',
      'synth',
      '--trust',
      at('keys/signing.pub'),
      '--json',
    );
    expect(exported.code).toBe(0);
    expect(readFileSync(at('c/synth.h'), 'utf8')).toContain(`#define SYNTH_LEN ${readFileSync(at('v1.bin')).length}u`);
  });

  it('exits 1 with the error code when verification fails', async () => {
    await cli('keygen', '--out', at('other'), '--json');
    const r = await cli('verify', at('v1.fbundle'), '--trust', at('other/signing.pub'), '--json');
    expect(r.code).toBe(1);
    expect(r.json).toEqual({ ok: false, error: { code: 'BUNDLE_KEY_UNTRUSTED', message: expect.any(String) } });
    const rollback = await cli('verify', at('v1.fbundle'), '--trust', at('keys/signing.pub'), '--installed-sequence', '1');
    expect(rollback.code).toBe(1);
    expect(rollback.stderr).toMatch(/^BUNDLE_ROLLBACK: /);
    writeFileSync(at('junk.fbundle'), 'not a bundle');
    expect((await cli('verify', at('junk.fbundle'), '--trust', at('keys/signing.pub'), '--json')).json.error.code).toBe('BUNDLE_MALFORMED');
  });

  it('exits 2 on usage errors, still printing one JSON object under --json', async () => {
    const missing = await cli('verify', at('v1.fbundle'), '--json');
    expect(missing.code).toBe(2);
    expect(missing.json).toMatchObject({ ok: false, error: { code: 'BUNDLE_USAGE' } });
    const badSeq = await cli(
      'pack',
      '--onnx',
      at('v1.bin'),
      '--name',
      'x',
      '--version',
      '1.0.0',
      '--sequence',
      'abc',
      '--key',
      at('keys/signing.key'),
      '--out',
      at('x.fbundle'),
      '--json',
    );
    expect(badSeq.code).toBe(2);
    const badSemver = await cli(
      'pack',
      '--onnx',
      at('v1.bin'),
      '--name',
      'x',
      '--version',
      'one',
      '--sequence',
      '1',
      '--key',
      at('keys/signing.key'),
      '--out',
      at('x.fbundle'),
      '--json',
    );
    expect(badSemver.code).toBe(2);
    expect(badSemver.json.error.code).toBe('BUNDLE_INPUT_INVALID');
    expect((await cli('bundle', 'no-such-command')).code).toBe(2);
    const noFile = await cli('inspect', at('does-not-exist.fbundle'), '--json');
    expect(noFile.code).toBe(2);
    expect(noFile.json.error.code).toBe('BUNDLE_USAGE');
  });

  it('gives every subcommand help text', async () => {
    const help = await cli('bundle', '--help');
    for (const sub of ['keygen', 'pack', 'verify', 'inspect', 'unpack', 'diff', 'export-c']) expect(help.stdout).toContain(sub);
    const pack = await cli('pack', '--help');
    expect(pack.code).toBe(0);
    expect(pack.stdout).toContain('--manifest-json');
  });
});

describe('registerBundleCommands on a host program', () => {
  it('keeps `pack --version SEMVER` working when the host defines its own --version', async () => {
    const out: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
    const exit = vi.spyOn(process, 'exit').mockImplementation(((code: number) => {
      throw new Error(`exit ${code}`);
    }) as never);
    const program = new Command('flotilla').version('9.9.9');
    registerBundleCommands(program);
    await expect(program.parseAsync(['bundle', 'pack', '--version', '1.0.0', '--json'], { from: 'user' })).rejects.toThrow('exit 2');
    write.mockRestore();
    exit.mockRestore();
    const text = out.join('');
    expect(text).not.toContain('9.9.9');
    expect(JSON.parse(text).error.message).toMatch(/required option '--onnx/);
  });
});

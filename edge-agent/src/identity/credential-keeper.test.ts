// The credential keeper on real file storage: a newer rotation is stored then applied; an invalid, older or
// already-superseded one (a recovery stored a newer token meanwhile) is ignored, so a late rotation message
// never takes the agent back to a token the server has already replaced.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256Hex, utf8 } from '@flotilla/firmware-bundler';
import { FileStorage } from '../storage/file-storage.ts';
import { writeJson } from '../storage/agent-storage.ts';
import { CREDENTIAL_KEY, effectiveToken, keepCredentials } from './credential-keeper.ts';

const dir = mkdtempSync(join(tmpdir(), 'credential-keeper-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const msg = (token: string, generation: number) =>
  utf8(
    JSON.stringify({
      v: 1,
      token,
      generation,
      oldValidUntil: new Date(Date.now() + 60_000).toISOString(),
      issuedAt: new Date().toISOString(),
    }),
  );
const tok = (c: string) => `fdt_${c.repeat(32)}`;
const settle = () => new Promise((r) => setTimeout(r, 50));

describe('keepCredentials', () => {
  it('applies newer rotations, and ignores invalid, older and superseded ones', async () => {
    const storage = await FileStorage.open(join(dir, 'a'));
    const configured = tok('a');
    let current = configured;
    const applied: string[] = [];
    let deliver: (p: Uint8Array) => void = () => undefined;
    keepCredentials({
      on: (fn) => ((deliver = fn), () => undefined),
      storage,
      configured,
      current: () => current,
      apply: (t) => (applied.push(t), (current = t)),
    });
    await settle();
    deliver(utf8('{"v":1,"token":"nope"}'));
    deliver(msg(tok('b'), 2));
    await settle();
    expect(applied).toEqual([tok('b')]);
    expect(await effectiveToken(storage, configured)).toBe(tok('b'));
    deliver(msg(tok('c'), 1));
    await settle();
    expect(applied).toEqual([tok('b')]);
    // A recovery stored generation 5; a late rotation message of generation 3 must not win.
    await writeJson(storage, CREDENTIAL_KEY, { token: tok('r'), generation: 5, origin: sha256Hex(utf8(configured)) });
    current = tok('r');
    deliver(msg(tok('d'), 3));
    await settle();
    expect(applied).toEqual([tok('b')]);
    expect(await effectiveToken(storage, configured)).toBe(tok('r'));
    deliver(msg(tok('e'), 6));
    await settle();
    expect(applied).toEqual([tok('b'), tok('e')]);
  });
});

// The key ring on a real folder: rotate and retire issue trust updates a device accepts (checked with the
// agent's own verifier), a restart keeps the version and the active key, bad requests are refused and
// change nothing, and neither a torn nor a failed write of trust.json leaves a broken document.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { verifyTrustUpdate, type TrustState } from '@flotilla/firmware-bundler';
import { KeyRing, tempFileOf, TRUST_FILE } from './key-ring.ts';

const dirs: string[] = [];
const fresh = () => {
  const d = mkdtempSync(join(tmpdir(), 'key-ring-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const stateOf = (r: KeyRing): TrustState => ({ version: r.version, keys: r.list().map((k) => k.publicKey), threshold: r.threshold });

describe('key ring and trust document', () => {
  it('starts at version 0 with one key, rotates and retires into updates devices accept, and survives a restart', async () => {
    const data = fresh();
    const ring = await KeyRing.open(data);
    expect(ring.created).toBe(true);
    expect(ring.version).toBe(0);
    expect(ring.trust()).toBeNull();
    const first = ring.active();
    expect(ring.list()).toEqual([
      expect.objectContaining({ keyId: first.keyId, active: true, held: true, fingerprint: first.fingerprint }),
    ]);
    const v0 = stateOf(ring);

    const r1 = await ring.rotate();
    expect(r1).toMatchObject({ version: 1, threshold: 1, active: r1.keyId });
    expect(new Set(r1.signedBy)).toEqual(new Set([first.keyId, r1.keyId]));
    expect(ring.active().keyId).toBe(r1.keyId);
    // A device provisioned with the first key accepts it; so does one provisioned with the new key only.
    const v1 = verifyTrustUpdate(ring.trust()!, v0);
    expect(v1.keys).toEqual([first.publicKeyHex, ring.active().publicKeyHex]);
    expect(verifyTrustUpdate(ring.trust()!, { version: 0, keys: [ring.active().publicKeyHex], threshold: 1 }).version).toBe(1);

    // Threshold 2 from now on: the next update needs two of the three keys.
    const r2 = await ring.rotate({ threshold: 2 });
    expect(r2).toMatchObject({ version: 2, threshold: 2 });
    const v2 = verifyTrustUpdate(ring.trust()!, v1);
    expect(v2.keys).toHaveLength(3);

    const r3 = await ring.retire(first.keyId);
    expect(r3).toMatchObject({ version: 3, threshold: 2, keyId: first.keyId, active: r2.keyId });
    // The remaining keys sign first; the retired key adds its signature for devices still at version 0.
    expect(r3.signedBy.slice(0, 2).sort()).toEqual([r1.keyId, r2.keyId].sort());
    expect(r3.signedBy.slice(2)).toEqual([first.keyId]);
    const v3 = verifyTrustUpdate(ring.trust()!, v2);
    expect(v3.keys).not.toContain(first.publicKeyHex);
    // A device that was offline through all three updates (still at version 0) accepts the newest one.
    expect(verifyTrustUpdate(ring.trust()!, v0)).toEqual(v3);
    // Without the retired key's signature, the remaining keys alone satisfy a device at version 2.
    const remainingOnly = { ...ring.trust()!, signatures: ring.trust()!.signatures.filter((x) => x.keyId !== first.keyId) };
    expect(verifyTrustUpdate(remainingOnly, v2)).toEqual(v3);

    // A restart reads the same version, keys, threshold and active signer back.
    const again = await KeyRing.open(data);
    expect(again.created).toBe(false);
    expect(stateOf(again)).toEqual(v3);
    expect(again.active().keyId).toBe(r2.keyId);
    expect(again.trust()).toEqual(ring.trust());
    // The retired key's files stay (bundles it signed before still verify where it is trusted).
    expect(readFileSync(join(data, 'keys', 'signing.key'), 'utf8')).toContain(first.keyId);
  });

  it('refuses unknown keys, the active key, impossible thresholds and too few signers, changing nothing', async () => {
    const ring = await KeyRing.open(fresh());
    const first = ring.active().keyId;
    await expect(ring.retire(first)).rejects.toMatchObject({
      code: 'KEY_ACTIVE',
      status: 409,
      message: expect.stringMatching(/rotate first/),
    });
    await expect(ring.retire('0123456789abcdef')).rejects.toMatchObject({ code: 'KEY_NOT_FOUND', status: 404 });
    await expect(ring.rotate({ threshold: 3 })).rejects.toMatchObject({ code: 'KEY_THRESHOLD_INVALID', status: 400 });
    expect(ring.version).toBe(0);
    const { keyId: second } = await ring.rotate({ threshold: 2 });
    // Two keys, threshold 2: retiring one leaves one signer for an update that needs two.
    await expect(ring.retire(first)).rejects.toMatchObject({
      code: 'KEY_SIGNERS_MISSING',
      status: 409,
      message: expect.stringMatching(/rotate a new key in first/),
    });
    // By fingerprint works as well as by key id; the active (second) key is still refused.
    await expect(ring.retire(ring.list().find((k) => k.keyId === second)!.fingerprint)).rejects.toMatchObject({ code: 'KEY_ACTIVE' });
    expect(ring.version).toBe(1);
    const third = await ring.rotate();
    const retired = await ring.retire(
      ring
        .list()
        .find((k) => k.keyId === first)!
        .fingerprint.toLowerCase(),
    );
    expect(retired).toMatchObject({ version: 3, keyId: first, threshold: 2 });
    expect(ring.list().map((k) => k.keyId)).toEqual([second, third.keyId]);
  });

  it('never leaves a torn trust.json: a leftover temp file is ignored, a failed write changes nothing, a damaged file is refused', async () => {
    const data = fresh();
    const ring = await KeyRing.open(data);
    await ring.rotate();
    const file = join(data, 'keys', TRUST_FILE);
    const good = readFileSync(file, 'utf8');

    // A crash mid-write leaves half a temp file: the document in force is still the old one.
    writeFileSync(tempFileOf(file), good.slice(0, 40));
    const reopened = await KeyRing.open(data);
    expect(reopened.version).toBe(1);
    expect(reopened.active().keyId).toBe(ring.active().keyId);

    // A write that fails (the temp path cannot be written) refuses the rotation and keeps everything.
    rmSync(tempFileOf(file));
    mkdirSync(tempFileOf(file));
    await expect(reopened.rotate()).rejects.toThrow();
    expect(reopened.version).toBe(1);
    expect(readFileSync(file, 'utf8')).toBe(good);
    rmSync(tempFileOf(file), { recursive: true });
    expect((await reopened.rotate()).version).toBe(2);

    // A damaged document is refused at start rather than read as version 0 (devices are already past it).
    writeFileSync(file, readFileSync(file, 'utf8').slice(0, 100));
    await expect(KeyRing.open(data)).rejects.toMatchObject({
      code: 'KEY_STATE_INVALID',
      message: expect.stringMatching(/restore it from backup/),
    });
  });

  it('picks up a rotation made by another server process sharing the key folder', async () => {
    const data = fresh();
    const a = await KeyRing.open(data);
    const b = await KeyRing.open(data);
    const r = await a.rotate();
    expect(b.active().keyId).not.toBe(r.keyId);
    await b.refresh();
    expect(b.version).toBe(1);
    expect(b.active().keyId).toBe(r.keyId);
    expect(b.trust()).toEqual(a.trust());
  });
});
